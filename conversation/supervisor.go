package conversation

// supervisorButton performs a supervisor's button (lifecycle.Supervise) —
// 派给值班单位, 改派 and its choice, 受理, 联系业主, 在工作台打开 — and says
// what it did, or why not; a step that asks (改派's choice) offers its
// buttons, which a typed number picks on WeChat.
func (t *turn) supervisorButton(action, number, arg string) error {
	r, err := t.e.cfg.Lifecycle.Supervise(t.ctx, t.who(), t.s.Lang, action, number, arg)
	if err != nil {
		return t.lcFail(err)
	}
	if len(r.Choices) > 0 {
		t.ask(r.Text, r.Choices...)
		return nil
	}
	t.sayText(r.Text)
	return nil
}
