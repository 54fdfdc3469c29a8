// Package telegramtest is an in-process fake of the Telegram Bot API for
// tests of the Telegram adapter: an httptest server that speaks the Bot
// API's HTTP protocol closely enough for an unmodified client
// (go-telegram-bot-api v5) to run against it, plus hooks for the test to
// act as users and to look at what the bot did.
//
//	srv := telegramtest.NewServer(t, "123456:TEST")
//	api, _ := tgbotapi.NewBotAPIWithClient(srv.Token(), srv.URL()+"/bot%s/%s", http.DefaultClient)
//	ann := telegramtest.User{ID: 42, FirstName: "Ann", LanguageCode: "en"}
//	srv.SendCommand(ann, "start", "")
//	… run the adapter …
//	msgs, err := srv.WaitSent(ctx, ann.ID, 1)
//
// # Faithful to the real Bot API
//
//   - Protocol: {URL}/bot{token}/{method}, GET or POST, parameters from the
//     query string and a form, multipart or JSON body; method names match
//     case-insensitively; answers are {"ok":true,"result":…[,"description"]}
//     or {"ok":false,"error_code":N,"description":…[,"parameters":
//     {"retry_after":N}]} with the HTTP status equal to error_code. A wrong
//     token is 401 "Unauthorized", an unknown method 404 "Not Found".
//   - Error texts are the real ones (mostly taken from the Bot API server's
//     source), e.g. "Bad Request: chat not found", "Bad Request: message is
//     too long", "Bad Request: can't parse entities: Character '.' is
//     reserved and must be escaped with the preceding '\'", "Bad Request:
//     message is not modified: …", "Bad Request: BUTTON_DATA_INVALID",
//     "Bad Request: query is too old and response timeout expired or query ID
//     is invalid", "Forbidden: bot was blocked by the user", "Too Many
//     Requests: retry after N".
//   - getUpdates: offset confirms every update below it; offset ≤ 0 starts at
//     the first pending update, a negative offset counts from the end and
//     forgets what is before; an offset more than 10 past the newest update
//     is ignored (the queue is read from its head, nothing confirmed); limit
//     is clamped to 1–100 (default 100), timeout to 0–50 s; update ids start
//     at a large number, not 1. A long poll answers as soon as an update is
//     queued, when its timeout ends, or when the request's context ends; a
//     second long poll terminates the first with 409 "Conflict: terminated by
//     other getUpdates request; …", a setWebhook with 409 "Conflict:
//     terminated by setWebhook request". Polling again with the same offset
//     within 3 s waits at least 3 s (see SetRepeatPollDelay).
//     allowed_updates is applied like the real API: to updates created
//     afterwards; the default excludes chat_member and reactions.
//   - Webhook: while one is set, getUpdates answers 409 "Conflict: can't use
//     getUpdates method while webhook is active; …". Updates are POSTed as
//     JSON with X-Telegram-Bot-Api-Secret-Token when a secret is set; an
//     update leaves the queue only on a 2xx answer and is retried otherwise;
//     getWebhookInfo reports pending_update_count and last_error_message
//     ("Wrong response from the webhook: 401 Unauthorized"). A method in the
//     webhook's answer body is performed. setWebhook answers "Webhook was
//     set"/"Webhook is already set", deleteWebhook "Webhook was
//     deleted"/"Webhook is already deleted"; drop_pending_updates drops the
//     queue; setting a URL again within 1 s is refused with 429 (see
//     SetWebhookCooldown).
//   - Chats: the bot can only write to users who wrote to it (or AddUser)
//     and groups it was seen in; others are "chat not found". Message ids
//     are counted per chat and shared by the user's and the bot's messages.
//     Returned messages carry from, chat, date, text/caption with entities,
//     and reply_markup only for inline keyboards.
//   - Text: parse_mode MarkdownV2, Markdown (legacy) and HTML are parsed
//     with the Bot API's rules and error texts; the text is trimmed, the
//     4096-character limit (1024 for captions) is counted in UTF-16 units
//     after parsing; commands, URLs, mentions and hashtags are marked up.
//   - Reply markup: parsed with the real field names, aliases and error
//     texts; callback_data of 1–64 bytes; contact and location requests
//     only in private chats; the current reply keyboard of a chat is kept
//     (ReplyKeyboard).
//   - Edits: editMessageText without reply_markup removes the inline
//     keyboard, as on Telegram; an edit that changes nothing is "message is
//     not modified"; unknown messages are "message to edit not found".
//   - Callback queries are answerable once; files: getFile gives a file_path
//     (photos/file_N.jpg, documents/…), files over 20 MB are "file is too
//     big", uploads over 50 MB are 413; photos come as several PhotoSize
//     entries, smallest first; an upload to sendPhoto that is not an image
//     is "IMAGE_PROCESS_FAILED".
//   - Blocking the bot queues a my_chat_member update; group privacy mode
//     is on by default.
//
// # Simplified
//
//   - No chat types but private, group and supergroup; no channels,
//     usernames as chat_id, inline mode, payments, polls, stickers, media
//     groups, forwarding or copying, business or reactions.
//   - Entity parsing does not check entity nesting rules or find e-mail
//     addresses, cashtags and phone numbers; blockquotes are simplified.
//   - Webhook: any http(s) URL is accepted (Telegram wants HTTPS on ports
//     443, 80, 88 or 8443 and checks the certificate); deliveries are
//     sequential (max_connections is only reported); retries never give up
//     and updates never expire. The secret_token check's error text is a
//     guess.
//   - Flood control exists only when switched on (EnforceLimits) and counts
//     sends and edits, not chat actions; 409 conflict answers are not
//     delayed by 3 s as on Telegram; callback queries do not expire.
//   - Media are not transcoded: the largest PhotoSize is the uploaded bytes
//     at their own size; thumbnails are crude nearest-neighbour JPEGs;
//     videos and voices get fixed metadata; sending by URL is refused with
//     "failed to get HTTP URL content" as the fake cannot fetch.
//   - The command rules of setMyCommands (lower-case letters, digits and
//     underscores, 1–32 characters, no leading '/') are enforced with
//     BOT_COMMAND_INVALID; some of its other error texts are guesses.
package telegramtest
