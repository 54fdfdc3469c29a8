package bot

import (
	"context"
	"sync"
)

// SentRefs collects the references of the messages a Router sends under a
// context made by WithSentRefs: what the outbox keeps of a delivered message
// to edit it later. It is safe for concurrent use.
type SentRefs struct {
	mu   sync.Mutex
	refs []string
}

// sentRefsKey is the context key of WithSentRefs.
type sentRefsKey struct{}

// WithSentRefs returns a context under which Router.Send records, in the
// SentRefs returned, the reference each RefSender channel returned for a
// message it sent, in order. A sender that must know what the platform made
// of its messages sends under it; nothing else changes.
func WithSentRefs(ctx context.Context) (context.Context, *SentRefs) {
	r := &SentRefs{}
	return context.WithValue(ctx, sentRefsKey{}, r), r
}

func sentRefsOf(ctx context.Context) *SentRefs {
	r, _ := ctx.Value(sentRefsKey{}).(*SentRefs)
	return r
}

func (r *SentRefs) add(ref string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refs = append(r.refs, ref)
}

// Last returns the last reference recorded that is not empty: for a text
// with its buttons, the message that shows them. "" when there is none.
func (r *SentRefs) Last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.refs) - 1; i >= 0; i-- {
		if r.refs[i] != "" {
			return r.refs[i]
		}
	}
	return ""
}
