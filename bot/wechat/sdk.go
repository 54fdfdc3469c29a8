package wechat

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/sirupsen/logrus"
)

// DefaultAPIURL is WeChat's API, the base every SDK URL starts with.
const DefaultAPIURL = "https://api.weixin.qq.com"

// defaultHTTPTimeout bounds one API request when ConfigureSDK is given no
// client (the SDK's default, http.DefaultClient, has no timeout).
const defaultHTTPTimeout = 30 * time.Second

var (
	sdkOnce sync.Once
	// apiBase is the base that replaces DefaultAPIURL in every request, the
	// SDK's and the adapter's; empty means DefaultAPIURL.
	apiBase atomic.Pointer[string]
	// sdkClient is the client installed in the SDK.
	sdkClient *http.Client
)

// ConfigureSDK sets the process-wide state of github.com/silenceper/wechat/v2:
// the base URL that replaces https://api.weixin.qq.com in every request
// (util.SetURIModifier; empty: WeChat's own), the HTTP client
// (util.DefaultHTTPClient; nil: a client with a 30 s timeout), and the level
// of the SDK's logger, logrus, lowered to warnings so that it never logs the
// raw XML of users' messages. New calls it with its Config's APIURL and
// HTTPClient.
//
// The client and the logger are set once, by the first call; later clients
// are ignored. The base URL is read atomically on every request and each call
// replaces it, so that tests can point the SDK at their fake server — one fake
// at a time in one process: tests that talk to different fakes must not run
// in parallel.
func ConfigureSDK(apiURL string, client *http.Client) {
	base := strings.TrimRight(apiURL, "/")
	apiBase.Store(&base)
	configureOnce(client)
}

func configureOnce(client *http.Client) {
	sdkOnce.Do(func() {
		if client == nil {
			client = &http.Client{Timeout: defaultHTTPTimeout}
		}
		sdkClient = client
		util.DefaultHTTPClient = client
		util.SetURIModifier(rewriteURL)
		logrus.SetLevel(logrus.WarnLevel)
	})
}

// httpClient returns the client ConfigureSDK installed.
func httpClient() *http.Client {
	configureOnce(nil) // no-op when already configured
	return sdkClient
}

// currentBase returns the configured API base, "" for WeChat's own.
func currentBase() string {
	if p := apiBase.Load(); p != nil {
		return *p
	}
	return ""
}

// rewriteURL replaces DefaultAPIURL at the start of uri by the configured
// base.
func rewriteURL(uri string) string {
	base := currentBase()
	if base == "" || base == DefaultAPIURL || !strings.HasPrefix(uri, DefaultAPIURL+"/") {
		return uri
	}
	return base + strings.TrimPrefix(uri, DefaultAPIURL)
}
