package webui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestServesPagesWithTheirTypes(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script type="module" src="/js/app.js">`},
		{"/index.html", "text/html; charset=utf-8", "What do you want to do?"},
		{"/style.css", "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/js/app.js", "text/javascript; charset=utf-8", "import"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	} {
		w := get(t, h, "GET", tc.path)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != tc.ctype || !strings.Contains(w.Body.String(), tc.contains) {
			t.Errorf("GET %s: %d %q, body has %q: %v", tc.path, w.Code, w.Header().Get("Content-Type"), tc.contains, strings.Contains(w.Body.String(), tc.contains))
		}
	}
	if w := get(t, h, "HEAD", "/js/app.js"); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", w.Code, w.Body.Len())
	}
	for _, p := range []string{"/nope.js", "/js/", "/static/index.html", "/js/../index.html"} {
		if w := get(t, h, "GET", p); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
	if w := get(t, h, "POST", "/"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

// The daemon's content security policy allows no inline script or style;
// the page must not need any, or it breaks in the browser rather than here.
func TestNoInlineScriptOrStyle(t *testing.T) {
	html, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
		regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`),
	} {
		for _, m := range re.FindAllString(string(html), -1) {
			if re.String() == `<script(?:\s[^>]*)?>` && strings.Contains(m, ` src="/`) {
				continue
			}
			t.Errorf("index.html: %q is not allowed under the CSP (or loads from elsewhere)", m)
		}
	}
}

// Text from the daemon is never parsed as markup: the scripts build
// elements and text nodes only.
func TestScriptsNeverParseMarkup(t *testing.T) {
	banned := regexp.MustCompile(`\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function\(|\.style\.|setAttribute\(\s*['"](style|on)`)
	importRe := regexp.MustCompile(`(?m)^import .* from '(\./[^']+)';$`)
	err := fs.WalkDir(static, "static/js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		for _, m := range banned.FindAllString(string(src), -1) {
			t.Errorf("%s uses %q", p, m)
		}
		for _, m := range importRe.FindAllStringSubmatch(string(src), -1) {
			dep := path.Join(path.Dir(p), m[1])
			if _, err := fs.Stat(static, dep); err != nil {
				t.Errorf("%s imports %s, which is not embedded", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every element the scripts look up by id is in the page.
func TestPageHasTheIDsScriptsUse(t *testing.T) {
	html, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	app, err := fs.ReadFile(static, "static/js/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\('([a-z-]+)'\)`).FindAllStringSubmatch(string(app), -1) {
		if !strings.Contains(string(html), `id="`+m[1]+`"`) {
			t.Errorf("app.js uses #%s, which index.html lacks", m[1])
		}
	}
}
