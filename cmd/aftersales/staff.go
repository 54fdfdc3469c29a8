package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// Login limits of the console: per account, and per address.
const (
	loginAccountLimit = "5/15m"
	loginAddressLimit = "50/15m"
)

// openStaff wires the console's accounts, over the store.
func (m *Main) openStaff() error {
	st, ok := m.Store.(staff.Store)
	if !ok {
		return errors.New("the store keeps no staff accounts")
	}
	m.Staff = staff.New(staff.Config{
		Store: st, NowFunc: m.now, Logger: m.Logger,
		AccountLimit: m.limiter("login-account", loginAccountLimit),
		IPLimit:      m.limiter("login-address", loginAddressLimit),
	})
	return nil
}

// configAccountPrefix names the service accounts of the configured party
// tokens: "party-" and the party's code.
const configAccountPrefix = "party-"

// tokenAccounts makes the configured API tokens service accounts, so that
// every API action names who did it: AFTERSALES_API_TOKEN is "api" (a
// supervisor), each party token "party-<code>". An account of a token no
// longer configured is disabled: removing a token revokes it.
func (m *Main) tokenAccounts(ctx context.Context) error {
	want := map[string]bool{}
	if m.Config.APIToken != "" {
		u := &staff.User{Username: "api", DisplayName: "API", Role: staff.RoleSupervisor}
		if err := m.Staff.EnsureServiceAccount(ctx, u, m.Config.APIToken); err != nil {
			return fmt.Errorf("AFTERSALES_API_TOKEN's account: %w", err)
		}
		want[u.Username] = true
	}
	parties, _ := m.Config.partyTokens() // checked by Validate
	for token, code := range parties {
		p, err := m.Store.FindPartyByCode(ctx, code)
		if errors.Is(err, casework.ErrNotFound) {
			m.Logger.Warn("a party token names a party not on record; it is refused until the party is imported", "party", code)
			continue
		}
		if err != nil {
			return err
		}
		u := &staff.User{Username: configAccountPrefix + strings.ToLower(code), DisplayName: p.Name, Role: staff.RoleParty, PartyID: p.ID}
		if err := m.Staff.EnsureServiceAccount(ctx, u, token); err != nil {
			return fmt.Errorf("the account of party %s's token: %w", code, err)
		}
		want[u.Username] = true
	}
	users, err := m.Staff.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		managed := u.Username == "api" || strings.HasPrefix(u.Username, configAccountPrefix)
		if u.Kind == staff.KindService && managed && !want[u.Username] && !u.Disabled {
			if err := m.Staff.Disable(ctx, u.Username, "config"); err != nil {
				return err
			}
			m.Logger.Info("the account of a token no longer configured is disabled", "account", u.Username)
		}
	}
	return nil
}

// demoAdmin makes sure the demo has an admin, "admin", with a new random
// password at each start, and says how to sign in.
func (m *Main) demoAdmin(ctx context.Context, out io.Writer) error {
	password := strings.ToLower(rand.Text())[:16]
	err := m.Staff.SetPassword(ctx, "admin", password, "demo")
	if errors.Is(err, casework.ErrNotFound) {
		err = m.Staff.AddUser(ctx, &staff.User{Username: "admin", DisplayName: "管理员", Role: staff.RoleAdmin}, password, "demo")
	}
	if err != nil {
		return fmt.Errorf("demo admin: %w", err)
	}
	fmt.Fprintf(out, "\nThe staff console: http://%s/console/\n  username: admin\n  password: %s\n(a new password at each start of the demo)\n\n", m.Addr(), password)
	return nil
}

// userCommand runs `aftersales user add|list|disable|totp`.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return userCommandAt(ctx, nil, args, getenv, stdin, stdout, stderr)
}

// userCommandAt is userCommand on the clock now, a test's; nil: the
// system's. An authenticator's code is checked against it.
func userCommandAt(ctx context.Context, now func() time.Time, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	const usageText = `usage:
  aftersales user add NAME -role admin|supervisor|agent|party [-project CODE,…] [-party CODE] [-display-name NAME]
                        (the password is read from standard input)
  aftersales user add NAME -service -role ROLE …
                        (an integration's account: its API token is printed once)
  aftersales user list
  aftersales user disable NAME
  aftersales user totp NAME
                        (a second factor for an admin, or any person: prints the authenticator app's
                        otpauth:// URL and secret, then reads the code the app shows from standard input)
  aftersales user totp -disable NAME
                        (removes it: the password alone signs in again)
`
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "the account's role")
	projects := fs.String("project", "", "project codes the account is scoped to (supervisor, agent)")
	party := fs.String("party", "", "the party code of a party account")
	display := fs.String("display-name", "", "the name shown on cases (受理人)")
	service := fs.Bool("service", false, "an integration's account, with an API token instead of a password")
	noTOTP := fs.Bool("disable", false, "user totp: remove the account's authenticator")
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	// Settings flags (database…) come from the environment here.
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 || (fs.NArg() == 1 && name != "") || (*noTOTP && sub != "totp") {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	if name == "" {
		name = fs.Arg(0) // after the flags: user totp -disable NAME
	}
	cfg, _, err := LoadConfig("user", nil, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "aftersales: %v\n", err)
		return exitUsage
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "aftersales: configuration is invalid:\n%s\n", indent(err.Error()))
		return exitUsage
	}
	cfg.nowFunc = now
	m := NewMain(cfg, stderr)
	if err := m.OpenStore(ctx); err != nil {
		fmt.Fprintf(stderr, "aftersales user: %v\n", err)
		return exitFailed
	}
	defer m.Close()
	if err := m.openStaff(); err != nil {
		fmt.Fprintf(stderr, "aftersales user: %v\n", err)
		return exitFailed
	}
	switch {
	case sub == "list" && name == "":
		users, err := m.Staff.Users(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "aftersales user list: %v\n", err)
			return exitFailed
		}
		for _, u := range users {
			fmt.Fprintln(stdout, u)
		}
		return exitOK
	case sub == "disable" && name != "":
		if err := m.Staff.Disable(ctx, name, "cli"); err != nil {
			fmt.Fprintf(stderr, "aftersales user disable: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "%s is disabled; their sessions are ended\n", name)
		return exitOK
	case sub == "totp" && name != "":
		return totpCommand(ctx, m, name, *noTOTP, stdin, stdout, stderr)
	case sub == "add" && name != "":
	default:
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	u := &staff.User{Username: name, DisplayName: *display, Role: staff.Role(*role)}
	for _, code := range strings.Split(*projects, ",") {
		if code = strings.TrimSpace(code); code == "" {
			continue
		}
		p, err := m.Store.FindProjectByCode(ctx, code)
		if err != nil {
			fmt.Fprintf(stderr, "aftersales user add: project %q: %v\n", code, err)
			return exitUsage
		}
		u.ProjectIDs = append(u.ProjectIDs, p.ID)
	}
	if *party != "" {
		p, err := m.Store.FindPartyByCode(ctx, *party)
		if err != nil {
			fmt.Fprintf(stderr, "aftersales user add: party %q: %v\n", *party, err)
			return exitUsage
		}
		u.PartyID = p.ID
	}
	if *service {
		token, err := m.Staff.NewServiceAccount(ctx, u, "cli")
		if err != nil {
			fmt.Fprintf(stderr, "aftersales user add: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s (%s, service account) calls the API with\n  Authorization: Bearer %s\n(shown once: keep it)\n", u.Username, u.Role, token)
		return exitOK
	}
	password, err := bufio.NewReader(io.LimitReader(stdin, staff.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "aftersales user add: read the password: %v\n", err)
		return exitFailed
	}
	password = strings.TrimRight(password, "\r\n")
	if err := m.Staff.AddUser(ctx, u, password, "cli"); err != nil {
		fmt.Fprintf(stderr, "aftersales user add: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s (%s) can sign in at /console/login\n", u.Username, u.Role)
	if u.Role == staff.RoleAdmin {
		fmt.Fprintf(stdout, "an authenticator app's code can be required too: aftersales user totp %s\n", u.Username)
	}
	return exitOK
}

// totpCommand runs `aftersales user totp [-disable] NAME`: it enrols the
// account's authenticator and confirms it with the code read from stdin, or
// removes it.
func totpCommand(ctx context.Context, m *Main, name string, disable bool, stdin io.Reader, stdout, stderr io.Writer) int {
	if disable {
		if err := m.Staff.DisableTOTP(ctx, name, "cli"); err != nil {
			fmt.Fprintf(stderr, "aftersales user totp: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "%s signs in without an authenticator code\n", name)
		return exitOK
	}
	enrol, err := m.Staff.EnrolTOTP(ctx, name, "cli")
	var invalid *casework.ValidationError
	switch {
	case errors.As(err, &invalid):
		fmt.Fprintf(stderr, "aftersales user totp: %v\n", err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "aftersales user totp: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "Add %s to an authenticator app: scan this URL as a QR code, or type the secret.\n  %s\n  secret: %s\n"+
		"(shown once: keep it from others)\nThe code the app shows now: ", name, enrol.URL, enrol.Secret)
	code, err := bufio.NewReader(io.LimitReader(stdin, 64)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "\naftersales user totp: read the code: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(stdout)
	code = strings.TrimSpace(code)
	if code == "" {
		fmt.Fprintf(stderr, "aftersales user totp: no code: %s's authenticator is not turned on; run this again\n", name)
		return exitFailed
	}
	if err := m.Staff.ConfirmTOTP(ctx, name, code, "cli"); err != nil {
		if errors.Is(err, staff.ErrBadCode) {
			err = errors.New("the code is not the app's for this secret now (is the phone's clock right?); run this again")
		}
		fmt.Fprintf(stderr, "aftersales user totp: %s's authenticator is not turned on: %v\n", name, err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s now signs in with their password and the app's code\n", name)
	return exitOK
}
