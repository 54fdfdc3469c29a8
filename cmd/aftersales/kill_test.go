package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
)

// The child process of TestKillDuringSubmit: the service, as `aftersales
// demo` runs it, configured by the environment, on the test's clock
// (AFTERSALES_TEST_NOW). With AFTERSALES_TEST_KILL_AT set, it kills itself
// with SIGKILL — no deferred call, no flush, as kill -9 — the moment it logs
// that message.
const (
	childEnv  = "AFTERSALES_TEST_CHILD"
	nowEnv    = "AFTERSALES_TEST_NOW"
	killAtEnv = "AFTERSALES_TEST_KILL_AT"
)

func TestServiceChildProcess(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("the child process of TestKillDuringSubmit")
	}
	cfg, _, err := LoadConfig("demo", nil, os.Getenv)
	require.NoError(t, err)
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = "sqlite:" + cfg.DataDir + "/demo.db"
	}
	now, err := time.Parse(time.RFC3339Nano, os.Getenv(nowEnv))
	require.NoError(t, err)
	cfg.nowFunc = testclock.NewRunning(now).Now
	require.NoError(t, cfg.Validate())
	var log io.Writer = os.Stderr
	if at := os.Getenv(killAtEnv); at != "" {
		log = &killAt{w: os.Stderr, marker: []byte(`msg="` + at + `"`)}
	}
	m := NewMain(cfg, log)
	m.Demo = true
	m.examples = testclock.ExampleBatch
	ctx := context.Background()
	require.NoError(t, m.Open(ctx))
	require.NoError(t, m.Run(ctx))
}

// killAt kills the process with SIGKILL when a log line has marker.
type killAt struct {
	mu     sync.Mutex
	w      io.Writer
	marker []byte
}

func (k *killAt) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, err := k.w.Write(p)
	if bytes.Contains(p, k.marker) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
	return n, err
}

// child is a service process started by the test.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited; then err is why
	err  error
}

// startChild runs the service in a child process with env, and waits until
// it answers /healthz.
func startChild(t *testing.T, addr string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServiceChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=1", "AFTERSALES_ADDR=" + addr, "AFTERSALES_LOG_LEVEL=info"}, env...)...)
	var logs syncWriter
	logs.w = new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			logs.mu.Lock()
			t.Logf("the child logged:\n%s", logs.w.String())
			logs.mu.Unlock()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		select {
		case <-c.done:
			logs.mu.Lock()
			defer logs.mu.Unlock()
			t.Fatalf("the child exited before it served (%v):\n%s", c.err, logs.w.String())
		case <-time.After(50 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "the child did not start within a minute")
	}
}

// freeAddr returns a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// TestKillDuringSubmit: the service is killed with SIGKILL the moment it
// logs that the owner's case is registered — after the case's commit,
// before the dialogue's session and the message's dedupe mark are saved —
// and started again; the chat page sends 提交 again with the same message
// id, as it does when a send fails. There is one case, and the owner is told
// its number. On SQLite alone, and on PostgreSQL with Redis (whose lock the
// dead process held: the retry waits out its short lease).
func TestKillDuringSubmit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service as a child process")
	}
	t.Parallel()
	for _, backend := range []string{"SQLite", "PostgreSQL and Redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			const token = "staff-token-0123456789abcdef"
			clock := testclock.NewRunning(testclock.Start())
			addr := freeAddr(t)
			env := []string{"AFTERSALES_DATA_DIR=" + t.TempDir(), "AFTERSALES_API_TOKEN=" + token}
			if backend != "SQLite" {
				_, dbURL := pgtest.NewSchema(t)
				env = append(append(env, "AFTERSALES_DATABASE_URL="+dbURL), redisForTest(t).env()...)
			}
			first := startChild(t, addr, append(env, nowEnv+"="+clock.Now().Format(time.RFC3339Nano), killAtEnv+"=case registered")...)

			v := newVisitor(t, "http://"+addr)
			v.say("咨询")
			v.say("张三")
			v.say("3-1-201")
			v.say("13800000000")
			v.press("verify:skip")
			assert.Contains(t, v.say("请问房产证什么时候可以办下来？"), "提交")
			v.n++
			submit, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("msg-%04d-abcdefgh", v.n), "payload": "sum:submit"})
			_, err := v.client.Post("http://"+addr+"/chat/api/send", "application/json", bytes.NewReader(submit))
			assert.Error(t, err, "the service died while answering")
			select {
			case <-first.done:
				require.Error(t, first.err)
				assert.Contains(t, first.err.Error(), "killed")
			case <-time.After(30 * time.Second):
				t.Fatal("the service was not killed")
			}

			startChild(t, addr, append(env, nowEnv+"="+clock.Now().Format(time.RFC3339Nano))...)
			began := time.Now()
			resp, err := v.client.Post("http://"+addr+"/chat/api/send", "application/json", bytes.NewReader(submit))
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			t.Logf("%s: the retry was answered %v after the service was up again", backend, time.Since(began).Round(time.Millisecond))
			told := v.read()
			number := regexp.MustCompile(`SH-\d{8}-\d{4}`).FindString(told)
			require.NotEmpty(t, number, "the owner is told the case's number: %s", told)

			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/cases", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err = http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var list struct {
				Total int `json:"total"`
				Cases []struct {
					Number string `json:"number"`
				} `json:"cases"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
			require.Equal(t, 1, list.Total, "one case for one report")
			assert.Equal(t, number, list.Cases[0].Number)
			assert.Equal(t, 1, strings.Count(strings.Join(v.said, "\n"), number), "told once")
		})
	}
}
