package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aftersales/aftersales/casework"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	u, _, err := m.Staff.Login(ctx, "wangfang", "wangfang-password-2026", "127.0.0.1", "test")
	require.NoError(t, err)
	assert.Equal(t, "王芳", u.Name())
	_, _, err = m.Staff.Login(ctx, "lihua", "lihua-password-2026", "127.0.0.1", "test")
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
	u, _, err := m.Staff.Login(ctx, "admin", first, "127.0.0.1", "test")
	require.NoError(t, err)
	assert.True(t, u.MayManageUsers())
	second := password()
	assert.NotEqual(t, first, second)
	_, _, err = m.Staff.Login(ctx, "admin", first, "127.0.0.1", "test")
	assert.Error(t, err)
	_, _, err = m.Staff.Login(ctx, "admin", second, "127.0.0.1", "test")
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
