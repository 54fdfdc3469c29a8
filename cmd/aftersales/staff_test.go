package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/staff"
)

// TestUserCommand: accounts are made, listed and disabled on the command
// line, the password read from standard input; bad input is a clear error.
func TestUserCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := env("AFTERSALES_DATA_DIR", dir)
	ctx := context.Background()
	user := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"user"}, args...), getenv, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	for _, kind := range []string{"units", "parties"} {
		var out, errOut bytes.Buffer
		require.Equal(t, exitOK, run(ctx, []string{"import", kind, filepath.Join("..", "..", "examples", kind+".csv")}, getenv, nil, &out, &errOut), errOut.String())
	}

	code, out, errOut := user("wangfang-password-2026\n", "add", "wangfang", "-role", "supervisor", "-display-name", "王芳")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "wangfang (supervisor)")
	code, _, errOut = user("lihua-password-2026\n", "add", "lihua", "-role", "agent", "-project", "HJY")
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = user("huaxin-password-2026", "add", "zhouj", "-role", "party", "-party", "HXJS")
	require.Equal(t, exitOK, code, errOut)

	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"a-good-password-2026\n", []string{"add", "boss", "-role", "boss"}, "role"},
		{"short\n", []string{"add", "shorty", "-role", "agent"}, "at least 10"},
		{"a-good-password-2026\n", []string{"add", "wangfang", "-role", "agent"}, "wangfang"},
		{"a-good-password-2026\n", []string{"add", "x1", "-role", "agent", "-project", "NOPE"}, "NOPE"},
		{"a-good-password-2026\n", []string{"add", "x2", "-role", "party"}, "party"},
		{"", []string{"add"}, "usage"},
		{"", []string{"remove", "lihua"}, "usage"},
	} {
		code, _, errOut := user(tc.stdin, tc.args...)
		assert.Equal(t, exitUsage, code, "%v", tc.args)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
		assert.NotContains(t, errOut, "a-good-password-2026", "the password is never echoed")
	}

	code, out, _ = user("", "list")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "wangfang\t王芳\tsupervisor\tall projects\tactive")
	assert.Contains(t, out, "lihua\tlihua\tagent\tprojects [1]\tactive")
	assert.Contains(t, out, "zhouj\tzhouj\tparty\tparty 1\tactive")

	code, out, _ = user("", "disable", "lihua")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "lihua is disabled")
	_, out, _ = user("", "list")
	assert.Contains(t, out, "lihua\tlihua\tagent\tprojects [1]\tdisabled")
	code, _, errOut = user("", "disable", "nobody")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "not found")

	// The accounts sign in to the service on that database.
	cfg := DefaultConfig()
	cfg.DataDir = dir
	require.NoError(t, cfg.Validate())
	m := NewMain(cfg, &bytes.Buffer{})
	require.NoError(t, m.OpenStore(ctx))
	defer m.Close()
	require.NoError(t, m.openStaff())
	u, _, err := m.Staff.Login(ctx, "wangfang", "wangfang-password-2026", "", "127.0.0.1", "test")
	require.NoError(t, err)
	assert.Equal(t, "王芳", u.Name())
	_, _, err = m.Staff.Login(ctx, "lihua", "lihua-password-2026", "", "127.0.0.1", "test")
	assert.Error(t, err, "disabled")
}

// TestDemoAdmin: the demo prints how to sign in as admin, with a new
// password at each start; the one printed before no longer works.
func TestDemoAdmin(t *testing.T) {
	t.Parallel()
	m, _ := runMain(t, true, nil)
	ctx := t.Context()
	password := func() string {
		var out bytes.Buffer
		require.NoError(t, m.demoAdmin(ctx, &out))
		assert.Contains(t, out.String(), "http://"+m.Addr()+"/console/")
		assert.Contains(t, out.String(), "username: admin")
		_, after, ok := strings.Cut(out.String(), "password: ")
		require.True(t, ok, out.String())
		return strings.Fields(after)[0]
	}
	first := password()
	u, _, err := m.Staff.Login(ctx, "admin", first, "", "127.0.0.1", "test")
	require.NoError(t, err)
	assert.True(t, u.MayManageUsers())
	second := password()
	assert.NotEqual(t, first, second)
	_, _, err = m.Staff.Login(ctx, "admin", first, "", "127.0.0.1", "test")
	assert.Error(t, err)
	_, _, err = m.Staff.Login(ctx, "admin", second, "", "127.0.0.1", "test")
	assert.NoError(t, err)
}

// TestServiceAccounts: the configured API tokens are accounts, and the API
// records each action under its account; an account made on the command
// line calls the API with its own token; a token removed from the
// configuration no longer opens the API.
func TestServiceAccounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const token = "staff-token-0123456789abcdef"
	m, stop := runMain(t, true, func(c *Config) { c.DataDir, c.APIToken = dir, token })
	base := "http://" + m.Addr()
	v := newVisitor(t, base)
	v.say("投诉")
	v.say("张伟")
	v.say("1-1-101")
	v.say("13900000001")
	v.press("verify:skip")
	v.say("物业保安态度很差")
	number := regexp.MustCompile(`SH-\d{8}-\d{4}`).FindString(v.press("sum:submit"))
	require.NotEmpty(t, number)
	require.Equal(t, http.StatusCreated, apiPost(t, m, token, "/api/v1/cases/"+number+"/notes", `{"note":"已联系业主"}`))

	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"user", "add", "crm", "-service", "-role", "agent"}, env("AFTERSALES_DATA_DIR", dir), nil, &out, &errOut)
	require.Equal(t, exitOK, code, errOut.String())
	crmToken := regexp.MustCompile(`Bearer (\S+)`).FindStringSubmatch(out.String())
	require.Len(t, crmToken, 2, out.String())
	require.Equal(t, http.StatusCreated, apiPost(t, m, crmToken[1], "/api/v1/cases/"+number+"/notes", `{"note":"CRM 已同步"}`))

	c, err := m.Store.FindCaseByNumber(t.Context(), number)
	require.NoError(t, err)
	events, err := m.Store.ListCaseEvents(t.Context(), c.ID)
	require.NoError(t, err)
	var actors []string
	for _, e := range events {
		if e.Kind == casework.EventNote {
			actors = append(actors, string(e.Actor))
		}
	}
	assert.Contains(t, actors, "service:api")
	assert.Contains(t, actors, "service:crm")

	stop()
	m2, _ := runMain(t, true, func(c *Config) { c.DataDir = dir })
	assert.Equal(t, http.StatusUnauthorized, apiPost(t, m2, token, "/api/v1/cases/"+number+"/notes", `{"note":"x"}`), "the removed token is refused")
	assert.Equal(t, http.StatusCreated, apiPost(t, m2, crmToken[1], "/api/v1/cases/"+number+"/notes", `{"note":"y"}`), "the CLI's account is not the configuration's")
}

// codeReader answers the command's prompt: on its first read, the code the
// app would show for the secret printed so far in out, at the clock's time.
type codeReader struct {
	t     *testing.T
	out   *bytes.Buffer
	clock *testclock.Clock
	r     io.Reader
}

func (c *codeReader) Read(p []byte) (int, error) {
	if c.r == nil {
		secret := regexp.MustCompile(`secret: ([A-Z2-7]+)`).FindStringSubmatch(c.out.String())
		require.Len(c.t, secret, 2, "the secret is printed before the code is asked for: %s", c.out.String())
		code, err := totp.GenerateCode(secret[1], c.clock.Now())
		require.NoError(c.t, err)
		c.r = strings.NewReader(code + "\n")
	}
	return c.r.Read(p)
}

// TestUserTOTPCommand: an authenticator is added on the command line, which
// prints its URL and secret and turns it on with the code the app shows;
// `user list` tells who has one; -disable removes it.
func TestUserTOTPCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := env("AFTERSALES_DATA_DIR", dir)
	ctx := t.Context()
	clock := testclock.New(testclock.Start())
	user := func(stdin func(out *bytes.Buffer) io.Reader, args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := userCommandAt(ctx, clock.Now, args, getenv, stdin(&out), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	text := func(s string) func(*bytes.Buffer) io.Reader {
		return func(*bytes.Buffer) io.Reader { return strings.NewReader(s) }
	}
	appCode := func(out *bytes.Buffer) io.Reader { return &codeReader{t: t, out: out, clock: clock} }

	code, out, errOut := user(text("wangfang-password-2026\n"), "add", "wangfang", "-role", "admin")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "aftersales user totp wangfang", "an admin is offered an authenticator")
	code, out, errOut = user(text("lihua-password-2026\n"), "add", "lihua", "-role", "agent")
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, "totp")
	code, _, errOut = user(text(""), "add", "crm", "-service", "-role", "agent")
	require.Equal(t, exitOK, code, errOut)

	code, out, errOut = user(appCode, "totp", "wangfang")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "otpauth://totp/aftersales:wangfang?")
	assert.Contains(t, out, "now signs in with their password and the app's code")

	for _, tc := range []struct {
		stdin string
		args  []string
		exit  int
		want  string
	}{
		{"12345\n", []string{"totp", "lihua"}, exitFailed, "lihua's authenticator is not turned on"},
		{"", []string{"totp", "lihua"}, exitFailed, "no code"},
		{"", []string{"totp", "crm"}, exitUsage, "service account"},
		{"", []string{"totp", "nobody"}, exitFailed, "not found"},
		{"", []string{"totp"}, exitUsage, "usage"},
		{"", []string{"totp", "-disable"}, exitUsage, "usage"},
		{"", []string{"totp", "lihua", "wangfang"}, exitUsage, "usage"},
		{"", []string{"disable", "-disable", "lihua"}, exitUsage, "usage"},
	} {
		code, _, errOut := user(text(tc.stdin), tc.args...)
		assert.Equal(t, tc.exit, code, "%v", tc.args)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
	}

	code, out, _ = user(text(""), "list")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "wangfang\twangfang\tadmin\tall projects\tactive\ttotp on\n")
	assert.Contains(t, out, "lihua\tlihua\tagent\tall projects\tactive\ttotp pending\n", "enrolled, never confirmed")
	assert.Contains(t, out, "crm\tcrm\tagent\tall projects\tactive\t-\n")

	// The admin signs in with the password and a code, on that database.
	cfg := DefaultConfig()
	cfg.DataDir, cfg.nowFunc = dir, clock.Now
	require.NoError(t, cfg.Validate())
	m := NewMain(cfg, &bytes.Buffer{})
	require.NoError(t, m.OpenStore(ctx))
	defer m.Close()
	require.NoError(t, m.openStaff())
	_, _, err := m.Staff.Login(ctx, "wangfang", "wangfang-password-2026", "", "127.0.0.1", "test")
	assert.ErrorIs(t, err, staff.ErrCodeRequired)
	u, err := m.Staff.User(ctx, "wangfang")
	require.NoError(t, err)
	clock.Advance(30 * time.Second) // the code confirmed is used
	next, err := totp.GenerateCode(u.TOTPSecret, clock.Now())
	require.NoError(t, err)
	_, _, err = m.Staff.Login(ctx, "wangfang", "wangfang-password-2026", next, "127.0.0.1", "test")
	require.NoError(t, err)

	code, out, errOut = user(text(""), "totp", "-disable", "wangfang")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "wangfang signs in without an authenticator code")
	_, out, _ = user(text(""), "list")
	assert.Contains(t, out, "wangfang\twangfang\tadmin\tall projects\tactive\ttotp off\n")
	_, _, err = m.Staff.Login(ctx, "wangfang", "wangfang-password-2026", "", "127.0.0.1", "test")
	require.NoError(t, err)
	log, err := m.Staff.AuditLog(ctx, staff.AuditFilter{Action: "totp_disable"})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, "cli", log[0].Actor)
}
