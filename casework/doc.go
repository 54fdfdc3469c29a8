// Package casework is the after-sales department's domain: the property
// registry (projects, buildings, units, owners), the responsible parties and
// the routing rules that pick them, the case with its registration form,
// lifecycle state machine and timeline, the warranty check and the
// service-level policy, and the Store interfaces the storage adapters
// implement. It imports no database driver, messaging SDK or server.
package casework
