-- 0016_sent_ref: the platform's reference of a delivered outbox message
-- (casework.OutboxMessage.SentRef; Telegram's "chat_id:message_id"), by
-- which the message can be edited later — a withdrawn work order's buttons
-- taken away. '' when the platform gave none, and for messages sent before.

ALTER TABLE outbox ADD COLUMN sent_ref TEXT NOT NULL DEFAULT '';
