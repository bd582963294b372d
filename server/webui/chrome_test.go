package webui_test

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// stepTimeout bounds one step in the browser: long enough for a slow
// shared CI machine, short enough that a broken page fails fast.
const stepTimeout = 20 * time.Second

// cspProbe runs before the page's own scripts and keeps every content
// security policy violation, so the test can require there were none.
const cspProbe = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`

// findChromium returns Debian's chromium, or skips the test without it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (Debian package chromium); skipping the real-browser tests")
	return ""
}

// browser is one headless chromium tab, with what the page wrote to its
// console.
type browser struct {
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func newBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	// The defaults add --headless, --no-first-run,
	// --disable-background-networking and --disable-sync, and a fresh
	// --user-data-dir the allocator removes afterwards. Without the
	// networking flags chromium keeps trying to reach Google services.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(string, ...any) {}))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{ctx: ctx}
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs steps, failing the test with what the page shows when one fails.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\n--- the page says:\n%s", what, err, b.pageText())
	}
}

func value[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v\n--- the page says:\n%s", what, err, b.pageText())
	}
	return v
}

func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	return value(t, b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (b *browser) attr(t *testing.T, sel, name string) string {
	t.Helper()
	return value(t, b, name+" of "+sel, chromedp.Evaluate[string](
		fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ''`, sel, name)))
}

func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// problems lists uncaught exceptions, console errors the page wrote and
// security (CSP) messages. Failed requests the test makes on purpose are
// network messages, not problems.
func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		switch {
		case m.IsException(), m.Source == "" && m.Type == chromedp.ConsoleError, m.Source == "security":
			out = append(out, m.String()+" at "+m.URL)
		}
	}
	return out
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func wait(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(css(sel)) }

func key(k string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(k) }

func ctrlEnter() chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl))
}

// typeGoal replaces the goal box's text by typing.
func typeGoal(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.getElementById('goal').value = ''`),
		chromedp.SendKeys(css("#goal"), text))
}

// poll waits until the expression is true.
func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr)(ctx, tg)
		return err
	})
}

func cdpCall[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cmd, params)
		return err
	})
}
