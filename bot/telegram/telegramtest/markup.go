package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// parseReplyMarkup reads a reply_markup parameter the way the Bot API does
// (Client::get_reply_markup): the same field names and aliases, the same
// error texts, and the same choice when several kinds are given (keyboard,
// then inline keyboard, then remove, then force reply). Markup of none of
// these kinds, like {"inline_keyboard":[]}, is no markup.
func parseReplyMarkup(raw string) (*ReplyMarkup, *apiError) {
	if raw == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("Can't parse reply keyboard markup JSON object")
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		return nil, badRequest("Object expected as reply markup")
	}
	var (
		rows        [][]KeyboardButton
		inline      [][]InlineButton
		resize      bool
		oneTime     bool
		remove      bool
		selective   bool
		force       bool
		placeholder string
	)
	boolField := func(val any, msg string) (bool, *apiError) {
		b, isBool := val.(bool)
		if !isBool {
			return false, badRequest(msg)
		}
		return b, nil
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		val := obj[k]
		var err *apiError
		switch k {
		case "keyboard":
			arr, isArr := val.([]any)
			if !isArr {
				return nil, badRequest(`Field "keyboard" of the ReplyKeyboardMarkup must be an Array`)
			}
			for _, row := range arr {
				rowArr, isArr := row.([]any)
				if !isArr {
					return nil, badRequest(`Field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays`)
				}
				var newRow []KeyboardButton
				for _, b := range rowArr {
					kb, msg := parseKeyboardButton(b)
					if msg != "" {
						return nil, badRequest("Can't parse keyboard button: " + msg)
					}
					newRow = append(newRow, kb)
				}
				rows = append(rows, newRow)
			}
		case "inline_keyboard":
			arr, isArr := val.([]any)
			if !isArr {
				return nil, badRequest(`Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array`)
			}
			for _, row := range arr {
				rowArr, isArr := row.([]any)
				if !isArr {
					return nil, badRequest(`Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays`)
				}
				var newRow []InlineButton
				for _, b := range rowArr {
					ib, msg := parseInlineButton(b)
					if msg != "" {
						return nil, badRequest("Can't parse inline keyboard button: " + msg)
					}
					newRow = append(newRow, ib)
				}
				inline = append(inline, newRow)
			}
		case "resize_keyboard":
			resize, err = boolField(val, `Field "resize_keyboard" of the ReplyKeyboardMarkup must be of the type Boolean`)
		case "one_time_keyboard":
			oneTime, err = boolField(val, `Field "one_time_keyboard" of the ReplyKeyboardMarkup must be of the type Boolean`)
		case "hide_keyboard", "remove_keyboard":
			remove, err = boolField(val, `Field "remove_keyboard" of the ReplyKeyboardRemove must be of the type Boolean`)
		case "personal_keyboard", "selective":
			selective, err = boolField(val, `Field "selective" of the reply markup must be of the type Boolean`)
		case "force_reply_keyboard", "force_reply":
			force, err = boolField(val, `Field "force_reply" of the reply markup must be of the type Boolean`)
		case "input_field_placeholder":
			placeholder, _ = val.(string)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case len(rows) > 0:
		return &ReplyMarkup{Keyboard: rows, ResizeKeyboard: resize, OneTimeKeyboard: oneTime,
			InputFieldPlaceholder: placeholder, Selective: selective}, nil
	case len(inline) > 0:
		return &ReplyMarkup{InlineKeyboard: inline}, nil
	case remove:
		return &ReplyMarkup{RemoveKeyboard: true, Selective: selective}, nil
	case force:
		return &ReplyMarkup{ForceReply: true, Selective: selective, InputFieldPlaceholder: placeholder}, nil
	}
	return nil, nil
}

// stringField reads a required or optional string field of a JSON object
// as tdlib does (numbers are accepted as strings); msg is the error.
func stringField(obj map[string]any, name string, required bool) (string, string) {
	v, present := obj[name]
	if !present || v == nil {
		if required {
			return "", fmt.Sprintf("Can't find field \"%s\"", name)
		}
		return "", ""
	}
	switch x := v.(type) {
	case string:
		return x, ""
	case json.Number:
		return x.String(), ""
	}
	return "", fmt.Sprintf("Field \"%s\" must be of type String", name)
}

func parseKeyboardButton(v any) (KeyboardButton, string) {
	switch x := v.(type) {
	case string:
		return KeyboardButton{Text: x}, ""
	case map[string]any:
		text, msg := stringField(x, "text", true)
		if msg != "" {
			return KeyboardButton{}, msg
		}
		b := KeyboardButton{Text: text}
		rc, _ := x["request_contact"].(bool)
		rp, _ := x["request_phone_number"].(bool)
		rl, _ := x["request_location"].(bool)
		switch {
		case rc || rp:
			b.RequestContact = true
		case rl:
			b.RequestLocation = true
		}
		return b, ""
	}
	return KeyboardButton{}, "KeyboardButton must be a String or an Object"
}

func parseInlineButton(v any) (InlineButton, string) {
	obj, isObj := v.(map[string]any)
	if !isObj {
		return InlineButton{}, "InlineKeyboardButton must be an Object"
	}
	text, msg := stringField(obj, "text", true)
	if msg != "" {
		return InlineButton{}, msg
	}
	b := InlineButton{Text: text}
	if u, msg := stringField(obj, "url", false); msg != "" {
		return b, msg
	} else if u != "" {
		b.URL = u
		return b, ""
	}
	if d, msg := stringField(obj, "callback_data", false); msg != "" {
		return b, msg
	} else if d != "" {
		b.CallbackData = d
		return b, ""
	}
	for _, k := range []string{"callback_game", "pay", "login_url", "web_app", "copy_text"} {
		if _, present := obj[k]; present {
			b.Other = k
			return b, ""
		}
	}
	for _, k := range []string{"switch_inline_query", "switch_inline_query_current_chat"} {
		if _, present := obj[k]; present {
			q, msg := stringField(obj, k, true)
			if msg != "" {
				return b, msg
			}
			if k == "switch_inline_query" {
				b.SwitchInlineQuery = &q
			} else {
				b.SwitchInlineQueryCurrentChat = &q
			}
			return b, ""
		}
	}
	return b, "Text buttons are unallowed in the inline keyboard"
}

// checkMarkupForChat are the checks Telegram's servers make on markup that
// parsed: button texts, callback data of 1–64 bytes, button URLs, and
// contact/location requests only in private chats.
func checkMarkupForChat(m *ReplyMarkup, chatType string) *apiError {
	if m == nil {
		return nil
	}
	for _, b := range m.InlineButtons() {
		if strings.TrimSpace(b.Text) == "" {
			return badRequest("BUTTON_TEXT_INVALID")
		}
		if b.CallbackData != "" && len(b.CallbackData) > 64 {
			return badRequest("BUTTON_DATA_INVALID")
		}
		if b.URL != "" {
			if _, ok := checkLink(b.URL); !ok {
				return badRequest("BUTTON_URL_INVALID")
			}
		}
	}
	for _, b := range m.KeyboardButtons() {
		if strings.TrimSpace(b.Text) == "" {
			return badRequest("BUTTON_TEXT_INVALID")
		}
		if b.RequestContact && chatType != "private" {
			return badRequest("Phone number can be requested in private chats only")
		}
		if b.RequestLocation && chatType != "private" {
			return badRequest("Location can be requested in private chats only")
		}
	}
	return nil
}

// inlineMarkupJSON is the reply_markup the Bot API echoes in a Message: only
// inline keyboards are echoed.
func inlineMarkupJSON(m *ReplyMarkup) *json.RawMessage {
	if m == nil || len(m.InlineKeyboard) == 0 {
		return nil
	}
	rows := make([][]map[string]any, len(m.InlineKeyboard))
	for i, row := range m.InlineKeyboard {
		for _, b := range row {
			o := map[string]any{"text": b.Text}
			switch {
			case b.URL != "":
				o["url"] = b.URL
			case b.CallbackData != "":
				o["callback_data"] = b.CallbackData
			case b.SwitchInlineQuery != nil:
				o["switch_inline_query"] = *b.SwitchInlineQuery
			case b.SwitchInlineQueryCurrentChat != nil:
				o["switch_inline_query_current_chat"] = *b.SwitchInlineQueryCurrentChat
			case b.Other == "pay":
				o["pay"] = true
			case b.Other != "":
				o[b.Other] = map[string]any{}
			}
			rows[i] = append(rows[i], o)
		}
	}
	raw, _ := json.Marshal(map[string]any{"inline_keyboard": rows})
	msg := json.RawMessage(raw)
	return &msg
}

// sameInlineMarkup compares what the user sees of two messages' inline
// keyboards (nil and no inline keyboard are the same).
func sameInlineMarkup(a, b *ReplyMarkup) bool {
	ja, jb := inlineMarkupJSON(a), inlineMarkupJSON(b)
	if ja == nil || jb == nil {
		return ja == nil && jb == nil
	}
	return bytes.Equal(*ja, *jb)
}

func cloneMarkup(m *ReplyMarkup) *ReplyMarkup {
	if m == nil {
		return nil
	}
	c := *m
	c.InlineKeyboard = make([][]InlineButton, len(m.InlineKeyboard))
	for i, row := range m.InlineKeyboard {
		c.InlineKeyboard[i] = slices.Clone(row)
	}
	c.Keyboard = make([][]KeyboardButton, len(m.Keyboard))
	for i, row := range m.Keyboard {
		c.Keyboard[i] = slices.Clone(row)
	}
	if len(m.InlineKeyboard) == 0 {
		c.InlineKeyboard = nil
	}
	if len(m.Keyboard) == 0 {
		c.Keyboard = nil
	}
	return &c
}
