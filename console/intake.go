package console

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// Intake by staff (受理登记): cases from the hotline, walk-ins and letters,
// typed in by an agent — the console's page /console/cases/new and the API's
// POST /api/v1/cases — and attachments added to a case
// (POST /api/v1/cases/{number}/media). Both register through
// lifecycle.Service.Register, the chat's rules; uploads are stored as the
// chat stores owners' media (bot.Intake into Config.Media, checked by
// bot.DefaultMediaPolicy).

// Upload limits: a file is at most bot.MaxMediaMB (the media policy's);
// the registration page's form, photos included, at most maxIntakeFormBytes.
const (
	maxUploadBytes     = bot.MaxMediaMB<<20 + 64<<10
	maxIntakeFormBytes = 64 << 20
	// intakeFormMemory is how much of a form is held in memory; the rest of
	// its photos waits in temporary files.
	intakeFormMemory = 8 << 20
)

// uploadKey is the context key of withUpload's request body.
type uploadKey struct{}

// withUpload lets h's handler read a request body of up to max bytes,
// though the wrappers between bound bodies to less (MaxBodyBytes, the
// pages' 64 KiB): it keeps the body, so bounded, for uploadBody.
func withUpload(max int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := http.MaxBytesReader(w, r.Body, max)
		r.Body = body
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), uploadKey{}, body)))
	})
}

// uploadBody gives r back the body withUpload kept, when it did.
func uploadBody(r *http.Request) {
	if body, ok := r.Context().Value(uploadKey{}).(io.ReadCloser); ok {
		r.Body = body
	}
}

// uploads stores what staff upload as the chat stores owners' media: into
// the blob store of Config.Media, sniffed and checked by
// bot.DefaultMediaPolicy. Without a blob store, uploads are unavailable.
func (s *Server) uploads() (*bot.Intake, error) {
	blobs, ok := s.cfg.Media.(bot.BlobStore)
	if !ok {
		return nil, fmt.Errorf("%w: no media store for uploads", errUnavailable)
	}
	return &bot.Intake{Blobs: blobs, Policy: bot.DefaultMediaPolicy()}, nil
}

// readerFetcher hands an uploaded file to bot.Intake.
type readerFetcher struct{ r io.Reader }

func (f readerFetcher) FetchMedia(context.Context, *bot.Media) (io.ReadCloser, error) {
	return io.NopCloser(f.r), nil
}

// storeUpload stores one uploaded file as media of kind and returns its
// reference; a file the policy refuses is a *casework.ValidationError of
// field.
func storeUpload(ctx context.Context, in *bot.Intake, kind bot.Kind, field string, r io.Reader) (casework.MediaRef, error) {
	var m bot.Media
	if err := in.Store(ctx, kind, &m, readerFetcher{r}); err != nil {
		return casework.MediaRef{}, fmt.Errorf("store upload: %w", err)
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(m.Err, &tooLarge):
		return casework.MediaRef{}, tooLarge
	case errors.Is(m.Err, bot.ErrMediaTooLarge):
		return casework.MediaRef{}, casework.Invalid(field, "is larger than %d MB", bot.MaxMediaMB)
	case errors.Is(m.Err, bot.ErrMediaType):
		return casework.MediaRef{}, casework.Invalid(field, "is not a file accepted: %v", m.Err)
	case m.Err != nil:
		return casework.MediaRef{}, casework.Invalid(field, "could not be read: %v", m.Err)
	}
	return lifecycle.MediaRefOf(m), nil
}

// intakeRequest is the body of POST /api/v1/cases: the registration form
// (lifecycle.IntakeForm); absent fields are empty.
type intakeRequest struct {
	Channel        string `json:"channel"`
	OwnerID        int64  `json:"owner_id"`
	UnitID         int64  `json:"unit_id"`
	OwnerName      string `json:"owner_name"`
	OwnerPhone     string `json:"owner_phone"`
	Location       string `json:"location"`
	LocationDetail string `json:"location_detail"`
	Description    string `json:"description"`
	Occurred       string `json:"occurred"`
	Expectation    string `json:"expectation"`
	ContactTime    string `json:"contact_time"`
	Category       string `json:"category"`
	Subcategory    string `json:"subcategory"`
	Urgency        string `json:"urgency"`
}

// form returns the request as the lifecycle's registration form.
func (q intakeRequest) form() lifecycle.IntakeForm {
	return lifecycle.IntakeForm{
		Channel: casework.Channel(q.Channel), OwnerID: q.OwnerID, UnitID: q.UnitID, OwnerName: q.OwnerName, OwnerPhone: q.OwnerPhone,
		Location: casework.Location(q.Location), LocationDetail: q.LocationDetail, Description: q.Description, Occurred: q.Occurred,
		Expectation: q.Expectation, ContactTime: q.ContactTime,
		Category: casework.Category(q.Category), Subcategory: casework.Subcategory(q.Subcategory), Urgency: casework.Urgency(q.Urgency),
	}
}

// registerCase serves POST /api/v1/cases (受理登记): a case from the hotline,
// a walk-in or a letter, registered by the caller on the chat's rules
// (lifecycle.Service.Register), in a project of the caller's. It answers
// 201 with the case as triage left it; photos follow through
// POST /api/v1/cases/{number}/media.
func (s *Server) registerCase(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req intakeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	f := req.form()
	f.ScopeFunc = callerOf(r).user.MaySeeProject
	c, err := svc.Register(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, caseResponse{Case: newCaseJSON(c, s.cfg.NowFunc())})
	return nil
}

// addCaseMedia serves POST /api/v1/cases/{number}/media: one file, the
// multipart field "file", at most bot.MaxMediaMB, an image, a video or a
// PDF by its content, stored as the chat's media are and added to the case
// by the caller (lifecycle.Service.AttachMedia). It answers 201 with the
// media and the case.
func (s *Server) addCaseMedia(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	uploadBody(r)
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	in, err := s.uploads()
	if err != nil {
		return err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return casework.Invalid("file", "send one file as multipart/form-data: %v", err)
	}
	var ref *casework.MediaRef
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return multipartError(err)
		}
		if part.FormName() != "file" || part.FileName() == "" {
			return casework.Invalid(part.FormName(), "is not a field of this form: send the file as \"file\"")
		}
		if ref != nil {
			return casework.Invalid("file", "one file at a time")
		}
		m, err := storeUpload(r.Context(), in, bot.KindDocument, "file", part)
		if err != nil {
			return err
		}
		ref = &m
	}
	if ref == nil {
		return casework.Invalid("file", "is required")
	}
	nc, err := svc.AttachMedia(r.Context(), c.Number, actorOf(r), *ref)
	if err != nil {
		return err
	}
	out := struct {
		Media mediaJSON `json:"media"`
		Case  caseJSON  `json:"case"`
	}{Case: newCaseJSON(nc, s.cfg.NowFunc())}
	for _, m := range nc.Media {
		if m.BlobKey == ref.BlobKey {
			out.Media = mediaJSON{ID: m.ID, Kind: string(m.Kind), BlobKey: m.BlobKey, ContentType: m.ContentType, Size: m.Size, CreatedAt: m.CreatedAt}
		}
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// multipartError is a body that is not the multipart form it says it is;
// one too large stays an *http.MaxBytesError (413).
func multipartError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return casework.Invalid("body", "is not a multipart form: %v", err)
}

// intakeValues are the registration page's fields as typed, to show again.
type intakeValues struct {
	Channel, OwnerName, OwnerPhone, Location, LocationDetail, Description string
	Occurred, Expectation, ContactTime, Category, Subcategory, Urgency    string
}

// homeRow is a home the lookup found, or the one chosen.
type homeRow struct {
	Label, Owner, Phone string
	UnitID, OwnerID     int64
}

// subGroup is the subcategories of a category, for the page's select.
type subGroup struct {
	Category casework.Category
	Subs     []casework.Subcategory
}

// intakeView is the registration page: the lookup of the owner and unit,
// then, once one is chosen, the form.
type intakeView struct {
	Q        string
	Searched bool
	Homes    []homeRow
	Chosen   *homeRow // nil: nothing chosen yet
	New      bool     // the chosen unit's owner is not on record: name and phone
	Values   intakeValues
	Errors   map[string]string // by field
	Problem  string            // an error of no field of the form

	Channels   []casework.Channel
	Locations  []casework.Location
	Categories []casework.Category
	Subs       []subGroup
	Urgencies  []casework.Urgency
}

// newIntakeView returns the page's view with the form's choices.
func newIntakeView() *intakeView {
	v := &intakeView{Channels: lifecycle.IntakeChannels, Locations: casework.Locations, Categories: casework.Categories,
		Urgencies: casework.Urgencies, Errors: map[string]string{}, Values: intakeValues{Channel: string(casework.ChannelHotline)}}
	for _, c := range casework.Categories {
		v.Subs = append(v.Subs, subGroup{Category: c, Subs: casework.Subcategories[c]})
	}
	return v
}

// intakeShow serves GET /console/cases/new: with ?q=, the homes found by
// unit, phone or name (lifecycle.Service.FindHomes) in the user's projects,
// each with a button to pick it; with ?unit_id= (and owner_id=, 0 for an
// owner not on record), the registration form for that home.
func (s *Server) intakeShow(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	svc, err := s.intakeService(u)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := textParams(q); err != nil {
		return err
	}
	v := newIntakeView()
	if q.Has("unit_id") {
		if err := s.chooseHome(r.Context(), v, u, q.Get("unit_id"), q.Get("owner_id")); err != nil {
			return err
		}
		s.renderIntake(w, r, u, http.StatusOK, v)
		return nil
	}
	if v.Q = strings.TrimSpace(q.Get("q")); v.Q != "" {
		homes, err := svc.FindHomes(r.Context(), v.Q, u.MaySeeProject)
		if err != nil {
			return err
		}
		v.Searched = true
		for _, h := range homes {
			row := homeRow{Label: h.Project.Name + " " + h.Unit.Label(), UnitID: h.Unit.ID}
			if h.Owner != nil {
				row.Owner, row.Phone, row.OwnerID = h.Owner.Name, casework.MaskPhone(h.Owner.Phone), h.Owner.ID
			}
			v.Homes = append(v.Homes, row)
		}
	}
	s.renderIntake(w, r, u, http.StatusOK, v)
	return nil
}

// intakeSave serves POST /console/cases/new (multipart: the form with its
// photos): the case is registered by the user (lifecycle.Service.Register)
// and the browser sent to its page. A form refused comes back with what was
// typed and the reason beside the field; its photos are to be chosen again.
func (s *Server) intakeSave(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	uploadBody(r)
	svc, err := s.intakeService(u)
	if err != nil {
		return err
	}
	if err := r.ParseMultipartForm(intakeFormMemory); err != nil {
		return multipartError(err)
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	if err := textParams(r.MultipartForm.Value); err != nil {
		return err
	}
	get := func(k string) string { return r.PostFormValue(k) }
	v := newIntakeView()
	v.Values = intakeValues{Channel: get("channel"), OwnerName: get("owner_name"), OwnerPhone: get("owner_phone"),
		Location: get("location"), LocationDetail: get("location_detail"), Description: get("description"), Occurred: get("occurred"),
		Expectation: get("expectation"), ContactTime: get("contact_time"), Category: get("category"), Subcategory: get("subcategory"), Urgency: get("urgency")}
	if err := s.chooseHome(r.Context(), v, u, get("unit_id"), get("owner_id")); err != nil {
		return err
	}
	f := intakeRequest{Channel: v.Values.Channel, OwnerID: v.Chosen.OwnerID, UnitID: v.Chosen.UnitID, OwnerName: v.Values.OwnerName,
		OwnerPhone: v.Values.OwnerPhone, Location: v.Values.Location, LocationDetail: v.Values.LocationDetail, Description: v.Values.Description,
		Occurred: v.Values.Occurred, Expectation: v.Values.Expectation, ContactTime: v.Values.ContactTime,
		Category: v.Values.Category, Subcategory: v.Values.Subcategory, Urgency: v.Values.Urgency}.form()
	f.ScopeFunc = u.MaySeeProject
	if f.Photos, err = s.intakePhotos(r.Context(), r.MultipartForm.File["photos"]); err == nil {
		var c *casework.Case
		if c, err = svc.Register(r.Context(), casework.Actor(u.Actor()), f); err == nil {
			http.Redirect(w, r, "/console/cases/"+url.PathEscape(c.Number), http.StatusSeeOther)
			return nil
		}
	}
	var ve *casework.ValidationError
	switch {
	case errors.Is(err, lifecycle.ErrForbidden):
		return errForbidden
	case !errors.As(err, &ve):
		return err
	}
	lang := langOf(r)
	key := "intake.err." + ve.Field
	if errors.Is(err, casework.ErrOccurredFuture) {
		key = "intake.err.occurred_future"
	}
	if _, known := uiText[lang][key]; known {
		v.Errors[ve.Field] = uiText.Render(lang, key)
	} else {
		v.Problem = uiText.Render(lang, "error.bad_request", "reason", ve.Error())
	}
	if len(f.Photos) > 0 && ve.Field != "photos" {
		v.Errors["photos"] = uiText.Render(lang, "intake.photos_again")
	}
	s.renderIntake(w, r, u, http.StatusBadRequest, v)
	return nil
}

// intakeService returns the lifecycle for a user who may register cases.
func (s *Server) intakeService(u *staff.User) (*lifecycle.Service, error) {
	if !u.MayAct() {
		return nil, errForbidden
	}
	if s.cfg.Lifecycle == nil {
		return nil, fmt.Errorf("%w: the case lifecycle is not configured", errUnavailable)
	}
	return s.cfg.Lifecycle, nil
}

// chooseHome puts the home the form names — unit and owner, 0 or "" for an
// owner not on record — on v, if the user may see its project.
func (s *Server) chooseHome(ctx context.Context, v *intakeView, u *staff.User, unitID, ownerID string) error {
	uid, err := strconv.ParseInt(unitID, 10, 64)
	if err != nil || uid < 1 {
		return casework.Invalid("unit_id", "must name a unit: look the owner up first")
	}
	oid, err := strconv.ParseInt(cmp.Or(ownerID, "0"), 10, 64)
	if err != nil || oid < 0 {
		return casework.Invalid("owner_id", "must name an owner, or be 0")
	}
	unit, err := s.cfg.Store.FindUnitByID(ctx, uid)
	if err != nil {
		return fmt.Errorf("unit %d: %w", uid, err)
	}
	if !u.MaySeeProject(unit.ProjectID) {
		return errForbidden
	}
	p, err := s.cfg.Store.FindProjectByID(ctx, unit.ProjectID)
	if err != nil {
		return err
	}
	v.Chosen = &homeRow{Label: p.Name + " " + unit.Label(), UnitID: uid}
	if oid == 0 {
		v.New = true
		return nil
	}
	o, err := s.cfg.Store.FindOwnerByID(ctx, oid)
	if err != nil {
		return fmt.Errorf("owner %d: %w", oid, err)
	}
	v.Chosen.OwnerID, v.Chosen.Owner, v.Chosen.Phone = o.ID, o.Name, casework.MaskPhone(o.Phone)
	return nil
}

// intakePhotos stores the photos of the registration form.
func (s *Server) intakePhotos(ctx context.Context, files []*multipart.FileHeader) ([]casework.MediaRef, error) {
	var out []casework.MediaRef
	if len(files) == 0 {
		return nil, nil
	}
	if len(files) > lifecycle.MaxIntakePhotos {
		return nil, casework.Invalid("photos", "%d photos; at most %d are kept", len(files), lifecycle.MaxIntakePhotos)
	}
	in, err := s.uploads()
	if err != nil {
		return nil, err
	}
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("open upload: %w", err)
		}
		m, err := storeUpload(ctx, in, bot.KindPhoto, "photos", f)
		_ = f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// renderIntake writes the registration page.
func (s *Server) renderIntake(w http.ResponseWriter, r *http.Request, u *staff.User, status int, v *intakeView) {
	s.render(w, r, status, "intake", view{User: u, Nav: "intake", Title: uiText.Render(langOf(r), "intake.title"), Path: "/console/cases/new", Data: v})
}
