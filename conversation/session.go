package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
)

// Session is one user's place in the dialogue: the flow and step they are at,
// what they have answered so far, and the choices last offered. It is stored
// as JSON (on Redis, in the database, or in memory in tests) between
// messages.
type Session struct {
	User bot.UserRef `json:"user"`
	Lang Lang        `json:"lang"`
	// LangSure is set once the language is more than a default: the user
	// chose it, their first words showed it, or it is on record for an
	// owner or engineer. Until then an owner's first words decide it
	// (wordsLang).
	LangSure  bool              `json:"lang_sure,omitempty"`
	Flow      string            `json:"flow,omitempty"`
	Step      string            `json:"step,omitempty"`
	Slots     map[string]string `json:"slots,omitempty"`
	Media     []bot.Media       `json:"media,omitempty"`
	Back      []string          `json:"back,omitempty"`     // steps to return to with back/返回
	Failures  int               `json:"failures,omitempty"` // failed answers at this step
	Editing   bool              `json:"editing,omitempty"`  // changing one field from the summary
	HandedOff bool              `json:"handed_off,omitempty"`
	// HasCase is set once the user registered a case here: their session
	// is kept for Config.SessionTTL; one of a chat that never came to a case
	// for Config.NoCaseSessionTTL.
	HasCase bool         `json:"has_case,omitempty"`
	Choices []bot.Choice `json:"choices,omitempty"` // last offered, for typed numbers or words
	// Identity is the session's copy of the user's chat identity, read from
	// the store at IdentityAt.
	Identity   *casework.ChatIdentity `json:"identity,omitempty"`
	IdentityAt time.Time              `json:"identity_at,omitzero"`
	StartedAt  time.Time              `json:"started_at"`
	UpdatedAt  time.Time              `json:"updated_at"`
}

// SessionStore keeps sessions between messages. Load returns (nil, nil) when
// the user has no session. Implementations: MemoryStore here, and the stores
// in storage/redis, storage/sqlite and storage/postgres; all pass
// conversationtest's suite.
type SessionStore interface {
	Load(ctx context.Context, key string) (*Session, error)
	// Save stores s under s.User.Key(), replacing what was there, for ttl.
	Save(ctx context.Context, s *Session, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Clone returns a deep copy of s: changing one never changes the other.
func (s *Session) Clone() *Session {
	c := *s
	if s.Slots != nil {
		c.Slots = make(map[string]string, len(s.Slots))
		for k, v := range s.Slots {
			c.Slots[k] = v
		}
	}
	c.Media = append([]bot.Media(nil), s.Media...)
	c.Back = append([]string(nil), s.Back...)
	c.Choices = append([]bot.Choice(nil), s.Choices...)
	if s.Identity != nil {
		id := *s.Identity
		c.Identity = &id
	}
	return &c
}

// MarshalSession checks a session and its ttl as every SessionStore does
// before it saves — a nil session and a ttl that is not positive are
// refused: nothing lives forever — and returns its key and its JSON.
func MarshalSession(s *Session, ttl time.Duration) (key string, data []byte, err error) {
	if s == nil {
		return "", nil, errors.New("nil session")
	}
	key = s.User.Key()
	if ttl <= 0 {
		return key, nil, fmt.Errorf("ttl %v is not positive", ttl)
	}
	data, err = json.Marshal(s)
	return key, data, err
}

// UnmarshalSession decodes a session MarshalSession encoded.
func UnmarshalSession(data []byte) (*Session, error) {
	var s Session
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
