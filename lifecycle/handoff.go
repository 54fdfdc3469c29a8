package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// A person of the department answering a chat handed to them (转人工): they
// take it, write to the owner — each reply an outbox message to the chat
// account, about the linked case or none —, link the case it is about, and
// end it, which gives the owner back to the bot and tells them so. The
// dialogue (package conversation) opens hand-offs and adds the owner's
// words; the console calls these.

// ErrNoHandoffs is returned when the store keeps no hand-offs
// (casework.HandoffStore).
var ErrNoHandoffs = errors.New("the store keeps no hand-offs")

// The purposes of the messages of a hand-off (casework.OutboxMessage.Purpose).
const (
	PurposeHandoffReply = "handoff_reply" // a person's words to the owner
	PurposeHandoffEnded = "handoff_ended" // the owner is back with the bot
)

func init() {
	for k, v := range map[string]string{
		"owner.handoff_reply": "【人工客服】{text}",
		"owner.handoff_ended": "本次人工服务已结束，感谢您的耐心。接下来由服务助手继续为您服务：回复“菜单”查看可办理的事项，需要时随时回复“人工”。",
	} {
		zh[k] = v
	}
	for k, v := range map[string]string{
		"owner.handoff_reply": "[Service desk] {text}",
		"owner.handoff_ended": "Our service desk has closed this conversation. Thank you for your patience. The assistant is back: reply \"menu\" to see what you can do, or \"agent\" to reach a person again.",
	} {
		en[k] = v
	}
}

// handoffStore returns the store's hand-offs.
func (s *Service) handoffStore() (casework.HandoffStore, error) {
	hs, ok := s.cfg.Store.(casework.HandoffStore)
	if !ok {
		return nil, ErrNoHandoffs
	}
	return hs, nil
}

// handoffChat is the chat account of hand-off h as a recipient, in the
// language it speaks now (else the hand-off's).
func (s *Service) handoffChat(ctx context.Context, h *casework.Handoff) (recipient, error) {
	id, err := s.cfg.Store.FindChatIdentity(ctx, h.Platform, h.UserID)
	switch {
	case errors.Is(err, casework.ErrNotFound):
		return recipientOf(&casework.ChatIdentity{Platform: h.Platform, UserID: h.UserID, Lang: h.Lang}), nil
	case err != nil:
		return recipient{}, fmt.Errorf("find the chat of hand-off %d: %w", h.ID, err)
	}
	return recipientOf(id), nil
}

// chatMessage returns the effects that send the catalogue text key, in the
// recipient's language, to the chat account of h — about h's case, or none
// when it has none (casework.OutboxMessage.CaseID 0) — with purpose.
func (s *Service) chatMessage(ctx context.Context, h *casework.Handoff, purpose, key string, kv ...string) (casework.Effects, string, error) {
	r, err := s.handoffChat(ctx, h)
	if err != nil {
		return casework.Effects{}, "", err
	}
	text := T(r.lang, key, kv...)
	return casework.Effects{Messages: outbox(h.CaseID, purpose, notice{to: r, text: text})}, text, nil
}

// TakeHandoff gives hand-off id to staff: a waiting one, or, with takeOver,
// one another person has (a *casework.ConflictError without it, or when
// someone else took it meanwhile, or it ended).
func (s *Service) TakeHandoff(ctx context.Context, id int64, staff casework.Actor, takeOver bool) (*casework.Handoff, error) {
	hs, err := s.handoffStore()
	if err != nil {
		return nil, err
	}
	h, err := hs.FindHandoff(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("hand-off %d: %w", id, err)
	}
	from := casework.Actor("")
	if takeOver {
		from = h.TakenBy
	}
	h, err = hs.TakeHandoff(ctx, id, staff, from, s.now())
	if err != nil {
		return nil, fmt.Errorf("take hand-off %d: %w", id, err)
	}
	s.cfg.Logger.Info("hand-off taken", "handoff_id", id, "by", staff)
	return h, nil
}

// ReplyToHandoff sends staff's words to the chat account of hand-off id
// through the outbox (purpose PurposeHandoffReply; about the linked case,
// or none) and keeps them in the hand-off, in one transaction. A waiting
// hand-off is taken by staff first; one another person has is theirs to
// answer (a *casework.ConflictError: take it over first), as is one that
// ended.
func (s *Service) ReplyToHandoff(ctx context.Context, id int64, staff casework.Actor, text string) (*casework.HandoffMessage, error) {
	text = strings.TrimSpace(text)
	if err := casework.ValidText("text", text, casework.MaxHandoffText); err != nil {
		return nil, err
	}
	hs, err := s.handoffStore()
	if err != nil {
		return nil, err
	}
	h, err := hs.FindHandoff(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("hand-off %d: %w", id, err)
	}
	switch {
	case !h.State.Open():
		return nil, &casework.ConflictError{What: fmt.Sprintf("the hand-off %d has ended", id)}
	case h.State == casework.HandoffWaiting:
		if h, err = hs.TakeHandoff(ctx, id, staff, "", s.now()); err != nil {
			return nil, fmt.Errorf("take hand-off %d: %w", id, err)
		}
	case h.TakenBy != staff:
		return nil, &casework.ConflictError{What: fmt.Sprintf("the hand-off %d is taken by %s: take it over first", id, h.TakenBy)}
	}
	eff, _, err := s.chatMessage(ctx, h, PurposeHandoffReply, "owner.handoff_reply", "text", text)
	if err != nil {
		return nil, err
	}
	m := &casework.HandoffMessage{HandoffID: id, From: casework.FromAgent, Actor: staff, Text: text, At: s.now()}
	if _, err := hs.AddHandoffMessage(ctx, m, eff); err != nil {
		return nil, fmt.Errorf("reply to hand-off %d: %w", id, err)
	}
	s.cfg.Logger.Info("hand-off reply queued", "handoff_id", id, "by", staff, "case_id", h.CaseID, "platform", h.Platform)
	return m, nil
}

// LinkHandoff links hand-off id to case number: the owner's words in it go
// on the case's timeline, those so far and those to come, and the replies
// are messages about the case.
func (s *Service) LinkHandoff(ctx context.Context, id int64, staff casework.Actor, number string) (*casework.Handoff, error) {
	hs, err := s.handoffStore()
	if err != nil {
		return nil, err
	}
	c, err := s.cfg.Store.FindCaseByNumber(ctx, strings.TrimSpace(number))
	if errors.Is(err, casework.ErrNotFound) {
		return nil, casework.Invalid("case", "there is no case %q", strings.TrimSpace(number))
	}
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", number, err)
	}
	h, err := hs.LinkHandoff(ctx, id, c.ID)
	if err != nil {
		return nil, fmt.Errorf("link hand-off %d to case %s: %w", id, c.Number, err)
	}
	s.cfg.Logger.Info("hand-off linked", "handoff_id", id, "case_id", c.ID, "case_number", c.Number, "by", staff)
	return h, nil
}

// EndHandoff ends hand-off id: the owner is told, through the outbox, that
// the bot is back, and what the bot said stays in the hand-off. Ending one
// that ended changes nothing.
func (s *Service) EndHandoff(ctx context.Context, id int64, staff casework.Actor) (*casework.Handoff, error) {
	hs, err := s.handoffStore()
	if err != nil {
		return nil, err
	}
	h, err := hs.FindHandoff(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("hand-off %d: %w", id, err)
	}
	if !h.State.Open() {
		return h, nil
	}
	eff, text, err := s.chatMessage(ctx, h, PurposeHandoffEnded, "owner.handoff_ended")
	if err != nil {
		return nil, err
	}
	now := s.now()
	m := &casework.HandoffMessage{From: casework.FromBot, Actor: casework.ActorBot, Text: text, At: now}
	h, ended, err := hs.EndHandoff(ctx, id, staff, now, m, eff)
	if err != nil {
		return nil, fmt.Errorf("end hand-off %d: %w", id, err)
	}
	if ended {
		s.cfg.Logger.Info("hand-off ended", "handoff_id", id, "by", staff)
	}
	return h, nil
}

// HandoffLang is the language of hand-off h's chat account now, for what a
// person writes to it (quick replies).
func (s *Service) HandoffLang(ctx context.Context, h *casework.Handoff) l10n.Lang {
	r, err := s.handoffChat(ctx, h)
	if err != nil {
		return l10n.Lang(h.Lang)
	}
	return r.lang
}
