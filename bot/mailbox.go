package bot

import (
	"context"
	"sync"
	"time"
)

// Mailbox keeps the messages waiting for the chat page's visitors, where
// every instance of the service sees them (Redis when configured, the
// database otherwise, memory in tests): a message produced on one instance
// — a reply, a pushed notification — is read by whichever instance the
// visitor polls. Each box is a visitor's last messages, numbered 1, 2, 3…
// and bounded: the oldest are dropped past the store's limit, and a box
// untouched for the store's keep time is forgotten. Bodies are opaque.
type Mailbox interface {
	// Put appends body to box, numbered after its last entry, at now. When
	// dedupe is not empty and an entry still kept in box has it, nothing is
	// added (added false): a visitor's re-sent message is kept once.
	Put(ctx context.Context, box, dedupe string, body []byte, now time.Time) (seq int64, added bool, err error)
	// After returns the entries of box numbered above after, oldest first,
	// and the number of its newest entry (0 for a box that is empty,
	// forgotten or never written). now decides what has expired.
	After(ctx context.Context, box string, after int64, now time.Time) (entries []MailboxEntry, last int64, err error)
	// Watch returns a channel closed at the next Put to box on any
	// instance, and a stop that releases it. Watch before After, so that a
	// Put between them is not missed.
	Watch(box string) (wake <-chan struct{}, stop func())
}

// MailboxEntry is one message in a box.
type MailboxEntry struct {
	Seq    int64
	Dedupe string
	Body   []byte
}

// Mailbox defaults.
const (
	// DefaultMailboxSize is how many entries a box keeps.
	DefaultMailboxSize = 200
	// DefaultMailboxKeep is how long a box no one writes to is kept: a
	// notification for a visitor who comes back the next day is still
	// there.
	DefaultMailboxKeep = 7 * 24 * time.Hour
)

// WakeHub wakes the watchers of a box: the in-process half of Mailbox.Watch,
// which each Mailbox feeds from its own cross-instance signal (Redis
// publish, PostgreSQL notify, or its own Put). It is safe for concurrent
// use; the zero value is ready.
type WakeHub struct {
	mu      sync.Mutex
	watches map[string]*watch
}

type watch struct {
	ch chan struct{}
	n  int // watchers of ch
}

// Watch returns a channel closed at the next Wake of box, and its stop.
func (h *WakeHub) Watch(box string) (<-chan struct{}, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watches == nil {
		h.watches = make(map[string]*watch)
	}
	w := h.watches[box]
	if w == nil {
		w = &watch{ch: make(chan struct{})}
		h.watches[box] = w
	}
	w.n++
	var once sync.Once
	return w.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if w.n--; w.n == 0 && h.watches[box] == w {
				delete(h.watches, box)
			}
		})
	}
}

// Wake closes the channel of box's watchers, if any.
func (h *WakeHub) Wake(box string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.watches[box]; w != nil {
		close(w.ch)
		delete(h.watches, box)
	}
}

// Watching returns how many boxes are watched, for tests.
func (h *WakeHub) Watching() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.watches)
}

// MemoryMailbox is a Mailbox in this process's memory, for tests and for a
// chat page with no store: it is lost on restart and not shared. It bounds
// the boxes it keeps as well as their sizes, dropping the least recently
// written box when full.
type MemoryMailbox struct {
	WakeHub
	size, boxes int
	keep        time.Duration

	mu    sync.Mutex
	box   map[string]*memBox
	swept time.Time
}

type memBox struct {
	entries []MailboxEntry
	last    int64
	touched time.Time
}

// NewMemoryMailbox returns a MemoryMailbox keeping size entries per box
// (DefaultMailboxSize when 0), at most boxes boxes (10 000 when 0), each
// for keep after its last Put (DefaultMailboxKeep when 0).
func NewMemoryMailbox(size, boxes int, keep time.Duration) *MemoryMailbox {
	size, keep = MailboxLimits(size, keep)
	if boxes <= 0 {
		boxes = 10000
	}
	return &MemoryMailbox{size: size, boxes: boxes, keep: keep, box: make(map[string]*memBox)}
}

// Put implements Mailbox.
func (m *MemoryMailbox) Put(ctx context.Context, box, dedupe string, body []byte, now time.Time) (int64, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	m.mu.Lock()
	b := m.open(box, now)
	if dedupe != "" {
		for _, e := range b.entries {
			if e.Dedupe == dedupe {
				m.mu.Unlock()
				return e.Seq, false, nil
			}
		}
	}
	b.last++
	b.touched = now
	b.entries = append(b.entries, MailboxEntry{Seq: b.last, Dedupe: dedupe, Body: append([]byte(nil), body...)})
	if len(b.entries) > m.size {
		b.entries = append(b.entries[:0], b.entries[len(b.entries)-m.size:]...)
	}
	seq := b.last
	m.mu.Unlock()
	m.Wake(box)
	return seq, true, nil
}

// After implements Mailbox.
func (m *MemoryMailbox) After(ctx context.Context, box string, after int64, now time.Time) ([]MailboxEntry, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.box[box]
	if b == nil || !now.Before(b.touched.Add(m.keep)) {
		return nil, 0, nil
	}
	var out []MailboxEntry
	for _, e := range b.entries {
		if e.Seq > after {
			out = append(out, e)
		}
	}
	return out, b.last, nil
}

// open returns box, new or kept, forgetting expired boxes from time to time
// and the least recently written one when full. m.mu must be held.
func (m *MemoryMailbox) open(box string, now time.Time) *memBox {
	if now.Sub(m.swept) >= time.Minute || len(m.box) >= m.boxes {
		m.swept = now
		for id, b := range m.box {
			if !now.Before(b.touched.Add(m.keep)) {
				delete(m.box, id)
			}
		}
	}
	b := m.box[box]
	if b != nil && !now.Before(b.touched.Add(m.keep)) {
		b = nil
	}
	if b == nil {
		if len(m.box) >= m.boxes {
			var oldest string
			for id, o := range m.box {
				if oldest == "" || o.touched.Before(m.box[oldest].touched) {
					oldest = id
				}
			}
			delete(m.box, oldest)
		}
		b = &memBox{touched: now}
		m.box[box] = b
	}
	return b
}

// MailboxLimits returns size and keep, or DefaultMailboxSize and
// DefaultMailboxKeep in place of values that are not positive: the defaults
// of every Mailbox's constructor.
func MailboxLimits(size int, keep time.Duration) (int, time.Duration) {
	if size <= 0 {
		size = DefaultMailboxSize
	}
	if keep <= 0 {
		keep = DefaultMailboxKeep
	}
	return size, keep
}

// Sweeper paces a store's sweep of what expired: Due is true at most once
// per Every on the callers' clock. The zero value of all but Every is ready.
type Sweeper struct {
	Every time.Duration

	mu   sync.Mutex
	last time.Time
}

// Due reports whether a sweep is due at now, and if so notes that one runs.
func (s *Sweeper) Due(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.last) < s.Every {
		return false
	}
	s.last = now
	return true
}

// MailboxRow is a row of a SQL store's read of a box: the box's last number,
// joined with one of its entries, or with none (Entry nil) when the box has
// no entry after the one asked for.
type MailboxRow struct {
	Last  int64
	Entry *MailboxEntry
}

// MailboxRows folds such rows into what Mailbox.After returns: the entries,
// and the box's last number (0 when there are no rows: no such box).
func MailboxRows(rows []MailboxRow) ([]MailboxEntry, int64) {
	if len(rows) == 0 {
		return nil, 0
	}
	var entries []MailboxEntry
	for _, r := range rows {
		if r.Entry != nil {
			entries = append(entries, *r.Entry)
		}
	}
	return entries, rows[0].Last
}
