package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// TestFloodOfReports: a script completing consultations on the chat page as
// fast as it can for 3 seconds (longer on a slow machine, until it met the
// limit), each as a new visitor (a new cookie) from one address
// (behind the trusted proxy), registers at most the address's case limit;
// the service stays healthy; a visitor from another address writing every
// 2 seconds is never refused and registers their case.
func TestFloodOfReports(t *testing.T) {
	const addressCases = 20
	m, _ := runMain(t, true, func(c *Config) {
		c.TrustedProxies = "127.0.0.1/32"
		c.LimitAddressCases = fmt.Sprintf("%d/24h", addressCases)
	})
	base := "http://" + m.Addr()
	// newVisitor is a client with a cookie jar of its own: a new visitor,
	// given its identity by the service at its first message.
	newVisitor := func() *http.Client {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		return &http.Client{Timeout: 30 * time.Second, Jar: jar}
	}
	post := func(client *http.Client, from, id string, body map[string]string) int {
		body["id"] = id
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(http.MethodPost, base+"/chat/api/send", bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	// The flood goes on for 3 s, and on a slow machine (the race detector,
	// other tests) until it met the address's limit, 15 s at most.
	start := time.Now()
	going := func() bool {
		mu.Lock()
		limited := statuses[http.StatusTooManyRequests] > 0
		mu.Unlock()
		d := time.Since(start)
		return d < 3*time.Second || (!limited && d < 15*time.Second)
	}
	for range 4 {
		wg.Go(func() {
			for going() {
				client := newVisitor()
				for i, msg := range []map[string]string{
					{"text": "咨询"}, {"text": "张三"}, {"text": "3-1-201"}, {"text": "13800000000"},
					{"payload": "verify:skip"}, {"text": "请问房产证什么时候可以办下来？"}, {"payload": "sum:submit"},
				} {
					code := post(client, "198.51.100.66", fmt.Sprintf("m%d", i), msg)
					mu.Lock()
					statuses[code]++
					mu.Unlock()
				}
			}
		})
	}
	// Meanwhile a person from another address, a message every 2 s (on
	// the service's clock: the test's runs at the real speed).
	polite := newVisitor()
	for i, msg := range []map[string]string{{"text": "咨询"}, {"text": "李四"}} {
		assert.Equal(t, http.StatusNoContent, post(polite, "203.0.113.5", fmt.Sprintf("p%d", i), msg), "the polite visitor is served")
		time.Sleep(time.Second)
	}
	wg.Wait()
	for i, msg := range []map[string]string{{"text": "3-1-601"}, {"text": "13900000018"}, {"payload": "verify:skip"}, {"text": "请问物业费怎么交？"}, {"payload": "sum:submit"}} {
		assert.Equal(t, http.StatusNoContent, post(polite, "203.0.113.5", fmt.Sprintf("q%d", i), msg), "the polite visitor is served")
	}

	cases, n, err := m.Store.FindCases(t.Context(), casework.CaseFilter{Limit: 500})
	require.NoError(t, err)
	flood := 0
	for _, c := range cases {
		if c.OwnerName == "张三" {
			flood++
		}
	}
	t.Logf("the flood sent %d requests (by status: %v) and registered %d cases; %d cases in all", sum(statuses), statuses, flood, n)
	assert.LessOrEqual(t, flood, addressCases, "at most the address's case limit")
	assert.Greater(t, statuses[http.StatusTooManyRequests], 0, "the flood met the address's message limit")
	assert.Equal(t, 1, n-flood, "the polite visitor's case is registered")
	code, _ := getJSON(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code, "the service stays healthy")
}

func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
