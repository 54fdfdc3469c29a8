// Package wechattest is an in-process fake of WeChat for tests of the
// official-account (公众号) adapter. It has two halves:
//
//   - Server fakes api.weixin.qq.com: access tokens, customer-service
//     messages with their 48-hour window and quotas, template messages,
//     temporary media and the custom menu, with a controllable clock and
//     failure injection.
//   - Platform plays WeChat's servers calling the account's callback URL:
//     it builds the XML pushes, signs them, encrypts them in safe mode,
//     retries on timeouts, and reads the answers as WeChat does.
//
// Linking the two (Platform.Server) makes a push open the user's
// customer-service window exactly as WeChat would, and records what reached
// the user: passive replies, customer-service and template messages, and
// WeChat's "该公众号暂时无法提供服务，请稍后再试" notice.
//
//	srv := wechattest.NewServer(t, appID, secret)
//	util.SetURIModifier(…replace "https://api.weixin.qq.com" with srv.URL()…)
//	p := wechattest.NewPlatform(callbackURL, token, appID, aesKey, true)
//	p.Server, p.Timeout = srv, 200*time.Millisecond
//	attempts, err := p.SendWithRetries(ctx, wechattest.Text("oUser", "热水器漏水"))
//	sent, err := srv.WaitSent(ctx, "oUser", 1)
//
// The crypto helpers (Encrypt, Decrypt, Signature, SealRequest, OpenRequest,
// SealReply, OpenReply) implement Tencent's WXBizMsgCrypt scheme and are
// tested against its published sample vectors.
//
// # Faithful to WeChat
//
//   - Protocol: JSON answers with HTTP 200 even for errors, as
//     {"errcode":N,"errmsg":"… rid: …"} (WeChat appends a request id to
//     every error message, so match errcode, not errmsg); the global
//     return-code table's codes and texts (40001, 40002, 40003, 40007,
//     40008, 40013, 40016–40027, 40037, 40125, 41001, 41002, 41004, 42001,
//     43001, 43002, 43004, 44003, 44004, 45002, 45008, 45015, 45047, 46003,
//     47001, 47003); wrong HTTP methods get 43001/43002.
//   - Tokens: /cgi-bin/token and /cgi-bin/stable_token check grant_type,
//     appid and secret; tokens last 7200 s on the fake clock; fetching a new
//     token leaves the old ones working for 5 minutes; the stable token is
//     separate and is returned unchanged (with its remaining expires_in)
//     until force_refresh or expiry. ExpireTokens gives 42001,
//     InvalidateTokens 40001.
//   - Customer-service messages: only to followers within 48 h of their
//     last message (5 messages, reset by each new message) or within 1
//     minute of a follow, a click on a click/scan-code menu button or a QR
//     scan (3 messages; a VIEW click opens nothing); 45015 outside, 45047
//     over quota; unfollowing closes everything. Text over 2048 UTF-8 bytes
//     is 45002, empty text 44004, unknown or expired media 40007, news with
//     more than one article 45008.
//   - Options: a text's <a href="weixin://bizmsgmenu?msgmenucontent=…&
//     msgmenuid=…">label</a> links and a msgmenu message's items (at most
//     10; head and tail of at most 1,024 bytes; ids of 1–64 and contents of
//     1–128 bytes) are the options of Sent, whose Content is what the user
//     sees (a link as its label); Tap sends one back as WeChat does: its
//     percent-decoded content as the user's text with <bizmsgmenuid>.
//   - Template messages need a follower (43004) but no window; unknown ids
//     are 40037; keywords named like category templates' (thing1, time2,
//     character_string3, phrase4, amount5, …) are checked by WeChat's
//     published rules, e.g. "argument invalid! data.thing1.value invalid".
//   - Temporary media: /cgi-bin/media/get answers the bytes with WeChat's
//     Content-Type, Content-disposition: attachment; filename="ID.jpg" and
//     Cache-Control headers, a video as {"video_url":…}; after 3 days on the
//     fake clock, or for unknown ids, {"errcode":40007,"errmsg":"invalid
//     media_id"}. PicURL serves the picture without a token, like PicUrl.
//   - Menu: 1–3 buttons of at most 16 bytes, 1–5 sub-buttons of at most 60
//     bytes, two levels, each type's required key (≤128 bytes), url (≤1024
//     bytes), media_id, appid/pagepath; failures keep the previous menu.
//   - Pushes: query signature, timestamp, nonce, openid (plus
//     encrypt_type=aes and msg_signature in safe mode); XML with CDATA
//     strings, bare numbers, WeChat's element order and layout; safe-mode
//     body <xml><ToUserName/><Encrypt/></xml>; Content-Type text/xml;
//     increasing 17-digit MsgIds; events without MsgId. The GET URL check
//     is plain (signature, echostr, timestamp, nonce) in every mode.
//   - Answers: "success" or an empty body mean no reply; otherwise a
//     passive reply XML addressed to the user from the account, of a
//     passive MsgType (text, image, voice, video, music, news,
//     transfer_customer_service), encrypted with a valid MsgSignature
//     (over its own TimeStamp and Nonce) in safe mode. Anything else, and
//     no answer at all, makes WeChat show the notice.
//   - Retries: no answer within 5 s (Platform.Timeout) abandons the request
//     (the account sees its context cancelled) and pushes again with the
//     same MsgId and CreateTime, 3 tries in all; only the last answer
//     counts.
//
// # Simplified or guessed
//
//   - User info: /cgi-bin/user/info answers subscribe, openid, language
//     ("zh_CN" unless SetLanguage says otherwise), subscribe_time, remark,
//     groupid and tagid_list (no nickname, avatar, sex or region, which
//     WeChat no longer gives); {"subscribe":0,…} for a user who left, 40003
//     for one the fake never heard of, 48001 after DenyUserInfo.
//   - Only the endpoints above; other paths are HTTP 404. No QR codes,
//     subscription messages, typing status, conditional
//     menus, IP whitelist (40164), API rate limits (45009/45011) or
//     force_refresh limits on the stable token.
//   - "Unknown" users are those the fake has not heard of (RecordInbound,
//     AddUser); WeChat answers 40003 for ids that are not the account's.
//   - Check order among errors, and codes where WeChat's docs are silent,
//     are guesses: unknown template keywords are ignored and missing typed
//     keywords are "value is empty"; time/date values are only checked to
//     contain a digit; a menu media_id button without media_id is 40007; a
//     miniprogram button without appid is 40017; client_msg_id does not
//     deduplicate templates.
//   - The answer checks are stricter than WeChat may be: exactly "success"
//     (no trailing newline), an encrypted empty reply (what
//     silenceper/wechat sends for a nil reply in safe mode) and a plaintext
//     reply in safe mode are invalid; the number of news articles in a
//     passive reply is not limited.
//   - Retries happen only on timeouts (and connection errors), immediately,
//     not on error statuses. Send is a single try: when it times out no
//     notice is recorded; SendWithRetries records one after the last try.
//   - msgmenu is accepted from every account (WeChat answers 40200 "invalid
//     account type" to test and unverified accounts); whether WeChat decodes
//     percent-encoding in msgmenucontent is inferred from public examples.
//   - Customer-service messages are not checked for media ownership, and a
//     message from an unfollowed user silently re-follows them.
package wechattest
