package web

// SetWaitHook makes every poll call f when it starts waiting for a message,
// so that a test knows the poll is parked without sleeping.
func (c *Channel) SetWaitHook(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waitHook = f
}
