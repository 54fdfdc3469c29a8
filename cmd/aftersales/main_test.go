package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// env returns a getenv over the given variables only.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// MustRunMain starts a real Main on a temporary SQLite database and a free
// loopback port, and stops it when the test ends.
func MustRunMain(tb testing.TB, demo bool) *Main {
	tb.Helper()
	m, _ := runMain(tb, demo, nil)
	return m
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestMainServesHealthAndReadiness(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t, false)
	status, body := getJSON(t, "http://"+m.Addr()+"/healthz")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ok", body["status"])
	status, body = getJSON(t, "http://"+m.Addr()+"/readyz")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ready", body["status"])

	// The container's health check command talks to the same server.
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"healthcheck", "-addr", m.Addr()}, env(), nil, &out, &errOut)
	assert.Equal(t, exitOK, code, errOut.String())
}

func TestReadyzFailsWhenTheDatabaseIsGone(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t, false)
	require.NoError(t, m.Store.Close())
	status, body := getJSON(t, "http://"+m.Addr()+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "unavailable", body["error"].(map[string]any)["code"])
}

func TestDemoStartsWithTheExampleProject(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t, true)
	ctx := context.Background()
	projects, err := m.Store.ListProjects(ctx)
	require.NoError(t, err)
	require.Len(t, projects, 1)
	units, total, err := m.Store.FindUnits(ctx, casework.UnitFilter{ProjectID: projects[0].ID})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, total, 90)
	assert.NotEmpty(t, units)
	parties, err := m.Store.ListParties(ctx)
	require.NoError(t, err)
	assert.Len(t, parties, 6)
	routes, err := m.Store.ListRoutes(ctx, projects[0].ID)
	require.NoError(t, err)
	assert.NotEmpty(t, routes)
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ key, value string }{
		{"AFTERSALES_ADDR", "localhost"},
		{"AFTERSALES_ADDR", "127.0.0.1:http-please"},
		{"AFTERSALES_DATABASE_URL", "mysql://root@localhost/db"},
		{"AFTERSALES_DATABASE_URL", "sqlite:"},
		{"AFTERSALES_DATABASE_URL", "postgres://"},
		{"AFTERSALES_REDIS_URL", "localhost:6379"},
		{"AFTERSALES_LOG_FORMAT", "xml"},
		{"AFTERSALES_LOG_LEVEL", "loud"},
		{"AFTERSALES_CASE_PREFIX", "sh-2"},
		{"AFTERSALES_TIMEZONE", "Mars/Olympus"},
		{"AFTERSALES_SURVEY_TTL", "soon"},
		{"AFTERSALES_SURVEY_TTL", "0s"},
		{"AFTERSALES_URGENT_ACCEPT_WITHIN", "-5m"},
		{"AFTERSALES_RETURN_VISITS", "leak=14d"},
		{"AFTERSALES_RETURN_VISITS", "roof:14d"},
		{"AFTERSALES_RETURN_VISITS", "leak:two weeks"},
		{"AFTERSALES_SERVICE_HOURS", "9-17"},
		{"AFTERSALES_SERVICE_HOURS", "18:00-08:30"},
		{"AFTERSALES_HOTLINE", "400\n820"},
		{"AFTERSALES_PARTY_TOKENS", "HXJS:short"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"migrate"}, env(tt.key, tt.value, "AFTERSALES_DATA_DIR", t.TempDir()), nil, &out, &errOut)
		assert.Equal(t, exitUsage, code, "%s=%s", tt.key, tt.value)
		assert.Contains(t, errOut.String(), tt.key, "%s=%s", tt.key, tt.value)
	}
}

func TestReturnVisitsParse(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.ReturnVisits = "leak:14d, crack:720h ,*:0"
	visits, def, err := cfg.returnVisits()
	require.NoError(t, err)
	assert.Equal(t, map[casework.Subcategory]time.Duration{casework.SubLeak: 14 * 24 * time.Hour, casework.SubCrack: 720 * time.Hour}, visits)
	assert.Zero(t, def, "*:0 turns the others off")
	d, err := parseDuration("3d")
	require.NoError(t, err)
	assert.Equal(t, 72*time.Hour, d)
}

func TestConfigSecretsAreRedacted(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"migrate"}, env("AFTERSALES_REDIS_URL", "http://user:hunter2@redis:6379"), nil, &out, &errOut)
	assert.Equal(t, exitUsage, code)
	assert.NotContains(t, errOut.String(), "hunter2")
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	t.Parallel()
	cfg, rest, err := LoadConfig("serve", []string{"-addr", "0.0.0.0:9090", "extra"}, env("AFTERSALES_ADDR", "127.0.0.1:1", "AFTERSALES_LOG_FORMAT", "json"))
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9090", cfg.Addr)
	assert.Equal(t, "json", cfg.LogFormat)
	assert.Equal(t, []string{"extra"}, rest)
}

func TestUnknownCommandAndHelp(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	assert.Equal(t, exitUsage, run(context.Background(), []string{"frobnicate"}, env(), nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "unknown command")
	out.Reset()
	assert.Equal(t, exitOK, run(context.Background(), []string{"help"}, env(), nil, &out, &errOut))
	for _, s := range settings {
		assert.Contains(t, out.String(), s.env)
	}
	out.Reset()
	assert.Equal(t, exitOK, run(context.Background(), []string{"serve", "-h"}, env(), nil, &out, &errOut))
	assert.Contains(t, out.String(), "AFTERSALES_ADDR")
}

// TestREADMEListsEverySetting keeps the README's configuration table in step
// with the code.
func TestREADMEListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, s := range settings {
		assert.True(t, strings.Contains(string(readme), "| `"+s.env+"` |"), "README.md's configuration table lacks %s", s.env)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	getenv := env("AFTERSALES_DATA_DIR", t.TempDir())
	for range 2 {
		var out, errOut bytes.Buffer
		require.Equal(t, exitOK, run(context.Background(), []string{"migrate"}, getenv, nil, &out, &errOut), errOut.String())
		assert.Contains(t, out.String(), "migrations applied")
	}
}

func TestDatabaseDownAtStartIsAClearError(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"serve"},
		env("AFTERSALES_DATABASE_URL", "postgres://aftersales:s3cret@127.0.0.1:1/aftersales?sslmode=disable&connect_timeout=2", "AFTERSALES_ADDR", "127.0.0.1:0"),
		nil, &out, &errOut)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut.String(), "open PostgreSQL database")
	assert.NotContains(t, errOut.String(), "s3cret", "the password must not be logged")
	assert.NotContains(t, errOut.String(), "panic")
	assert.Less(t, time.Since(start), 20*time.Second)
}

func TestSQLiteFileThatCannotBeOpened(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(notADir, []byte("x"), 0o600))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"migrate"}, env("AFTERSALES_DATABASE_URL", "sqlite:"+filepath.Join(notADir, "db.sqlite")), nil, &out, &errOut)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut.String(), "open SQLite database")
}

func TestImportCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := env("AFTERSALES_DATA_DIR", dir)
	ex := func(name string) string { return filepath.Join("..", "..", "examples", name) }
	for _, kind := range []string{"units", "owners", "parties", "routes"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"import", kind, ex(kind + ".csv")}, getenv, nil, &out, &errOut)
		require.Equal(t, exitOK, code, "%s: %s", kind, errOut.String())
		assert.Contains(t, out.String(), "imported")
	}
	// Re-importing updates and creates no duplicates.
	var out, errOut bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"import", "units", ex("units.csv")}, getenv, nil, &out, &errOut), errOut.String())

	count := func() int {
		cfg := DefaultConfig()
		cfg.DataDir = dir
		require.NoError(t, cfg.Validate())
		m := NewMain(cfg, &bytes.Buffer{})
		require.NoError(t, m.OpenStore(context.Background()))
		defer m.Close()
		_, n, err := m.Store.FindUnits(context.Background(), casework.UnitFilter{})
		require.NoError(t, err)
		return n
	}
	before := count()
	assert.GreaterOrEqual(t, before, 90)

	// A file with problems stores nothing and names every bad line.
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("project_code,project_name,building,entrance,floor,room,delivery_date\n"+
		"NEW,新项目,1,1,3,301,2025-01-01\n"+
		"NEW,新项目,1,1,three,302,2025-01-01\n"+
		"NEW,新项目,1,1,3,303,2025-02-30\n"), 0o600))
	out.Reset()
	errOut.Reset()
	code := run(context.Background(), []string{"import", "units", bad}, getenv, nil, &out, &errOut)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut.String(), "line 3")
	assert.Contains(t, errOut.String(), "line 4")
	assert.Equal(t, before, count(), "nothing of a refused file is stored")

	// Owners of units that do not exist: refused by the store, nothing stored.
	unknown := filepath.Join(dir, "owners.csv")
	require.NoError(t, os.WriteFile(unknown, []byte("project_code,unit,name,phone\nHJY,99-9-9999,王五,13900001111\n"), 0o600))
	errOut.Reset()
	assert.Equal(t, exitFailed, run(context.Background(), []string{"import", "owners", unknown}, getenv, nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "line 2")

	errOut.Reset()
	assert.Equal(t, exitUsage, run(context.Background(), []string{"import", "furniture", bad}, getenv, nil, &out, &errOut))
	assert.Equal(t, exitFailed, run(context.Background(), []string{"import", "units", filepath.Join(dir, "missing.csv")}, getenv, nil, &out, &errOut))
}

func TestServeStopsOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve"}, env("AFTERSALES_DATA_DIR", t.TempDir(), "AFTERSALES_ADDR", "127.0.0.1:0"), nil, &out, &errOut)
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code, errOut.String())
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "postgres://u:xxxxx@h/db", redactURL("postgres://u:pw@h/db"))
	assert.Equal(t, "sqlite:data/a.db", redactURL("sqlite:data/a.db"))
	assert.False(t, strings.Contains(redactURL("postgres://u:p%zz@h/db"), "p%zz"))
	var ce *ConfigError
	cfg := DefaultConfig()
	cfg.LogFormat = "yaml"
	require.True(t, errors.As(cfg.Validate(), &ce))
	assert.Equal(t, "AFTERSALES_LOG_FORMAT", ce.Var)
}
