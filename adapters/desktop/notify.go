package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

const (
	notifyName  = "org.freedesktop.Notifications"
	notifyPath  = "/org/freedesktop/Notifications"
	notifyIface = "org.freedesktop.Notifications"
	appName     = "Noema"
)

type notify struct{ m *Module }

type notifyTarget struct {
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
}

func (h *notify) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "desktop.notify",
		Title:       "Show a desktop notification",
		Description: "Show a notification with a title and an optional body through the desktop's notification server (org.freedesktop.Notifications).",
		Schema: adapter.Schema([]string{"title"}, map[string]any{
			"title": map[string]any{"type": "string", "minLength": 1, "maxLength": 200, "description": "the notification's summary line"},
			"body":  map[string]any{"type": "string", "maxLength": 4000, "description": "optional longer text"},
		}),
		Verification: "the notification server answered GetServerInformation and returned a notification id",
		Rollback:     action.RollbackNone,
		RollbackNote: "a notification that was shown cannot be unshown; it goes away when dismissed or when it expires",
		Utterances: []string{
			"(notify|alert) me [that|with|saying] {title}",
			"(show|send|display|pop up) [me] a notification [saying|that says|that|with] {title}",
			"(show|send) [me] a (notification|popup|desktop alert) titled {title} [saying|with body] {body}",
			"notify {title}",
			"put up a (notification|message) [saying] {title}",
		},
		Examples: []action.Example{
			{Text: "show a notification saying backup finished", Target: json.RawMessage(`{"title":"backup finished"}`)},
			{Text: "send a notification titled Tea with body the kettle has boiled", Target: json.RawMessage(`{"title":"Tea","body":"the kettle has boiled"}`)},
		},
		Aliases: []string{"notification", "popup", "desktop alert", "toast", "banner"},
		Owner:   "desktop",
	}
}

func (h *notify) target(req *action.Request) (notifyTarget, error) {
	var t notifyTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	if strings.TrimSpace(t.Title) == "" {
		return t, errors.New("desktop.notify: the title is empty")
	}
	return t, nil
}

func (h *notify) Preview(_ context.Context, req *action.Request) ([]action.Change, error) {
	t, err := h.target(req)
	if err != nil {
		return nil, err
	}
	shown := t.Title
	if t.Body != "" {
		shown += ": " + truncate(t.Body, 80)
	}
	return []action.Change{{Subject: "notification", Old: "", New: shown}}, nil
}

func (h *notify) Verification(req *action.Request) (verify.Spec, error) {
	if _, err := h.target(req); err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("notifications.server", NotificationServerArgs{}), nil
}

func (h *notify) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		return adapter.Outcome{}, errors.New("desktop.notify cannot be undone: a shown notification cannot be unshown")
	}
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	conn, err := h.m.sessionBus(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	obj := conn.Object(notifyName, notifyPath)
	body := t.Body
	// Servers with body-markup read the body as markup; escape it so
	// text is shown as written and cannot add links.
	var caps []string
	if err := obj.CallWithContext(ctx, notifyIface+".GetCapabilities", 0).Store(&caps); err == nil && slices.Contains(caps, "body-markup") {
		body = escapeMarkup(body)
	}
	var id uint32
	err = obj.CallWithContext(ctx, notifyIface+".Notify", 0,
		appName, uint32(0), "", t.Title, body, []string{}, map[string]dbus.Variant{}, int32(-1)).Store(&id)
	if err != nil {
		return adapter.Outcome{}, busError("the notification server ("+notifyName+")", "Notify", err)
	}
	return adapter.Outcome{
		Result: map[string]any{"id": id, "title": t.Title},
		Verification: verify.Probe("value.equals", verify.ValueArgs{
			Name: "notification id returned by the server is non-zero", Observed: id != 0, Expected: true}),
	}, nil
}

// escapeMarkup escapes the characters the notification spec's markup
// subset gives meaning to.
func escapeMarkup(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// NotificationServerArgs is empty: the session's notification server must
// answer.
type NotificationServerArgs struct{}

func (m *Module) probeNotificationServer(ctx context.Context, _ json.RawMessage) (verify.Observation, error) {
	conn, err := m.sessionBus(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	var name, vendor, version, spec string
	call := conn.Object(notifyName, notifyPath).CallWithContext(ctx, notifyIface+".GetServerInformation", 0)
	if call.Err == nil {
		if err := call.Store(&name, &vendor, &version, &spec); err != nil {
			return verify.Observation{Pass: false, Detail: "GetServerInformation answered with an unexpected reply: " + err.Error()}, nil
		}
		return verify.Observation{Pass: true, Observed: map[string]string{"name": name, "vendor": vendor, "version": version, "spec_version": spec},
			Detail: fmt.Sprintf("notification server %s %s (%s) answers", name, version, vendor)}, nil
	}
	var de dbus.Error
	if errors.As(call.Err, &de) && de.Name == "org.freedesktop.DBus.Error.UnknownMethod" {
		// A server without GetServerInformation still proves itself by
		// owning the name.
		var has bool
		if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, notifyName).Store(&has); err != nil {
			return verify.Observation{}, fmt.Errorf("ask the bus for %s: %w", notifyName, err)
		}
		return verify.Observation{Pass: has, Detail: fmt.Sprintf("%s owned=%v (no GetServerInformation)", notifyName, has)}, nil
	}
	return verify.Observation{Pass: false, Detail: busError("the notification server", "GetServerInformation", call.Err).Error()}, nil
}
