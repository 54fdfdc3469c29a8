package conversation_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aftersales/aftersales/bot"
)

// FuzzDialogue sends arbitrary messages — text, commands, button payloads —
// in any order, and checks that nothing panics, every message gets handled,
// and the session never wedges: "菜单" always brings the main menu back.
func FuzzDialogue(f *testing.F) {
	for _, seed := range []string{
		"报修\n林晓峰\n3-1-201\n13900000016\n!cat:engineering_quality/leak\n!loc:bathroom",
		"\x00\n\xff\xfe\n/start\n!sum:submit\n!edit:unit",
		"report\n😡\n<script>\n1\n2\n3\n!media:done\n!yes\n!no",
		"SH-20261127-0001\n!case:SH-20261127-0001\n!urge:SH-1\n/urge\n人工\nhello",
		"返回\n返回\n取消\nEnglish\n中文\n/lang xx\n!unit:999999\n!unit:abc\n!loc:attic",
	} {
		f.Add(seed)
	}
	w := newWorld(f)
	n := 0
	f.Fuzz(func(t *testing.T, script string) {
		n++
		u := &user{w: w, ref: bot.UserRef{Platform: bot.Telegram, ID: "fuzz" + strconv.Itoa(n%7)}}
		w.t = t
		lines := strings.Split(script, "\n")
		if len(lines) > 40 {
			lines = lines[:40]
		}
		for _, line := range lines {
			in := &bot.Inbound{Kind: bot.KindText, Text: line}
			switch {
			case strings.HasPrefix(line, "!"):
				in = &bot.Inbound{Kind: bot.KindButton, Payload: line[1:]}
			case strings.HasPrefix(line, "/") && len(line) > 1:
				in = &bot.Inbound{Kind: bot.KindCommand, Command: line[1:]}
			}
			w.seq++
			in.User, in.MessageID, in.Time = u.ref, "m"+strconv.Itoa(w.seq), w.clock.Now()
			if err := w.router.Dispatch(context.Background(), in); err != nil {
				t.Fatalf("message %q: %v", line, err)
			}
		}
		w.rec.mu.Lock()
		w.rec.out = nil
		w.rec.mu.Unlock()
		w.seq++
		if err := w.router.Dispatch(context.Background(), &bot.Inbound{User: u.ref, MessageID: "m" + strconv.Itoa(w.seq), Kind: bot.KindText, Text: "菜单"}); err != nil {
			t.Fatal(err)
		}
		w.rec.mu.Lock()
		defer w.rec.mu.Unlock()
		for _, o := range w.rec.out {
			if len(o.Choices) > 0 && o.Choices[0].Payload == "menu:report" {
				return
			}
		}
		t.Fatalf("after %q the session did not come back to the menu: %+v", script, w.rec.out)
	})
}
