package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/aftersales/aftersales/casework"
)

// scanner is a row to scan: a pgx.Row, or the current row of a pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row of rows with scan.
func collect[T any](rows pgx.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// pgDate stores a casework.Date; the zero Date is NULL.
func pgDate(d casework.Date) pgtype.Date {
	if d.IsZero() {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: d.In(time.UTC), Valid: true}
}

func fromPgDate(d pgtype.Date) casework.Date {
	if !d.Valid {
		return casework.Date{}
	}
	return casework.DateOf(d.Time)
}

// Projects.

const projectCols = `id, code, name, city, completion_date, warranty, created_at, updated_at`

func scanProject(row scanner) (*casework.Project, error) {
	var p casework.Project
	var completion pgtype.Date
	var warranty []byte
	if err := row.Scan(&p.ID, &p.Code, &p.Name, &p.City, &completion, &warranty, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.CompletionDate = fromPgDate(completion)
	if err := json.Unmarshal(warranty, &p.Warranty); err != nil {
		return nil, fmt.Errorf("project %d: warranty terms: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

// CreateProject stores p and sets its ID and timestamps.
func (db *DB) CreateProject(ctx context.Context, p *casework.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, "postgres: create project "+p.Code, func(tx pgx.Tx) error { return db.createProject(ctx, tx, p) })
}

func (db *DB) createProject(ctx context.Context, tx pgx.Tx, p *casework.Project) error {
	warranty, err := json.Marshal(p.Warranty)
	if err != nil {
		return fmt.Errorf("warranty terms: %w", err)
	}
	now := db.nowUTC()
	err = tx.QueryRow(ctx, `INSERT INTO projects (code, name, city, completion_date, warranty, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		p.Code, p.Name, p.City, pgDate(p.CompletionDate), warranty, now).Scan(&p.ID)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = now, now
	return nil
}

// UpdateProject writes every field of p.
func (db *DB) UpdateProject(ctx context.Context, p *casework.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: update project %d", p.ID),
		func(tx pgx.Tx) error { return db.updateProject(ctx, tx, p) })
}

func (db *DB) updateProject(ctx context.Context, tx pgx.Tx, p *casework.Project) error {
	warranty, err := json.Marshal(p.Warranty)
	if err != nil {
		return fmt.Errorf("warranty terms: %w", err)
	}
	now := db.nowUTC()
	err = tx.QueryRow(ctx, `UPDATE projects SET code = $2, name = $3, city = $4, completion_date = $5, warranty = $6, updated_at = $7
		WHERE id = $1 RETURNING created_at`,
		p.ID, p.Code, p.Name, p.City, pgDate(p.CompletionDate), warranty, now).Scan(&p.CreatedAt)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), now
	return nil
}

// FindProjectByID returns ErrNotFound if the project does not exist.
func (db *DB) FindProjectByID(ctx context.Context, id int64) (*casework.Project, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find project %d", id), scanProject,
		`SELECT `+projectCols+` FROM projects WHERE id = $1`, id)
}

// FindProjectByCode returns ErrNotFound if the project does not exist.
func (db *DB) FindProjectByCode(ctx context.Context, code string) (*casework.Project, error) {
	return readOne(ctx, db, "postgres: find project "+code, scanProject,
		`SELECT `+projectCols+` FROM projects WHERE code = $1`, code)
}

// ListProjects returns every project ordered by code.
func (db *DB) ListProjects(ctx context.Context) ([]*casework.Project, error) {
	return readAll(ctx, db, "postgres: list projects", scanProject,
		`SELECT `+projectCols+` FROM projects ORDER BY code`)
}

// Buildings.

const buildingCols = `id, project_id, code, name, completion_date, created_at, updated_at`

func scanBuilding(row scanner) (*casework.Building, error) {
	var b casework.Building
	var completion pgtype.Date
	if err := row.Scan(&b.ID, &b.ProjectID, &b.Code, &b.Name, &completion, &b.CreatedAt, &b.UpdatedAt); err != nil {
		return nil, err
	}
	b.CompletionDate = fromPgDate(completion)
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return &b, nil
}

// CreateBuilding stores b and sets its ID and timestamps.
func (db *DB) CreateBuilding(ctx context.Context, b *casework.Building) error {
	if err := b.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: create building %s of project %d", b.Code, b.ProjectID),
		func(tx pgx.Tx) error { return db.createBuilding(ctx, tx, b) })
}

func (db *DB) createBuilding(ctx context.Context, tx pgx.Tx, b *casework.Building) error {
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `INSERT INTO buildings (project_id, code, name, completion_date, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
		b.ProjectID, b.Code, b.Name, pgDate(b.CompletionDate), now).Scan(&b.ID)
	if err != nil {
		return err
	}
	b.CreatedAt, b.UpdatedAt = now, now
	return nil
}

// FindBuildingByID returns ErrNotFound if the building does not exist.
func (db *DB) FindBuildingByID(ctx context.Context, id int64) (*casework.Building, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find building %d", id), scanBuilding,
		`SELECT `+buildingCols+` FROM buildings WHERE id = $1`, id)
}

// ListBuildings returns a project's buildings ordered by code.
func (db *DB) ListBuildings(ctx context.Context, projectID int64) ([]*casework.Building, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list buildings of project %d", projectID), scanBuilding,
		`SELECT `+buildingCols+` FROM buildings WHERE project_id = $1 ORDER BY code`, projectID)
}

// Units.

const unitCols = `id, project_id, building_id, building, entrance, floor, room, delivery_date, created_at, updated_at`

func scanUnit(row scanner) (*casework.Unit, error) {
	var u casework.Unit
	var delivery pgtype.Date
	if err := row.Scan(&u.ID, &u.ProjectID, &u.BuildingID, &u.Building, &u.Entrance, &u.Floor, &u.Room, &delivery, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.DeliveryDate = fromPgDate(delivery)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// resolveUnitBuilding checks that u names a building of its project: by
// BuildingID when set, which must then carry the code u.Building; else by
// the code, and sets u.BuildingID.
func resolveUnitBuilding(ctx context.Context, tx pgx.Tx, u *casework.Unit) error {
	if u.BuildingID == 0 {
		err := tx.QueryRow(ctx, `SELECT id FROM buildings WHERE project_id = $1 AND code = $2`, u.ProjectID, u.Building).Scan(&u.BuildingID)
		return notFound(err, "building %s of project %d", u.Building, u.ProjectID)
	}
	var code string
	err := tx.QueryRow(ctx, `SELECT code FROM buildings WHERE id = $1 AND project_id = $2`, u.BuildingID, u.ProjectID).Scan(&code)
	if err != nil {
		return notFound(err, "building %d of project %d", u.BuildingID, u.ProjectID)
	}
	if code != u.Building {
		return casework.Invalid("building", "building %d has code %q, not %q", u.BuildingID, code, u.Building)
	}
	return nil
}

// CreateUnit stores u and sets its ID and timestamps.
func (db *DB) CreateUnit(ctx context.Context, u *casework.Unit) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: create unit %s of project %d", u.Label(), u.ProjectID),
		func(tx pgx.Tx) error { return db.createUnit(ctx, tx, u) })
}

func (db *DB) createUnit(ctx context.Context, tx pgx.Tx, u *casework.Unit) error {
	if err := resolveUnitBuilding(ctx, tx, u); err != nil {
		return err
	}
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `INSERT INTO units (project_id, building_id, building, entrance, floor, room, delivery_date, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		u.ProjectID, u.BuildingID, u.Building, u.Entrance, u.Floor, u.Room, pgDate(u.DeliveryDate), now).Scan(&u.ID)
	if err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// UpdateUnit writes every field of u.
func (db *DB) UpdateUnit(ctx context.Context, u *casework.Unit) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: update unit %d", u.ID),
		func(tx pgx.Tx) error { return db.updateUnit(ctx, tx, u) })
}

func (db *DB) updateUnit(ctx context.Context, tx pgx.Tx, u *casework.Unit) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE id = $1)`, u.ID).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("unit %d: %w", u.ID, casework.ErrNotFound)
	}
	if err := resolveUnitBuilding(ctx, tx, u); err != nil {
		return err
	}
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `UPDATE units SET project_id = $2, building_id = $3, building = $4, entrance = $5, floor = $6,
		room = $7, delivery_date = $8, updated_at = $9 WHERE id = $1 RETURNING created_at`,
		u.ID, u.ProjectID, u.BuildingID, u.Building, u.Entrance, u.Floor, u.Room, pgDate(u.DeliveryDate), now).Scan(&u.CreatedAt)
	if err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), now
	return nil
}

// FindUnitByID returns ErrNotFound if the unit does not exist.
func (db *DB) FindUnitByID(ctx context.Context, id int64) (*casework.Unit, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find unit %d", id), scanUnit,
		`SELECT `+unitCols+` FROM units WHERE id = $1`, id)
}

// FindUnits returns the units that match f, ordered by building, entrance,
// room, and the number that match without paging.
func (db *DB) FindUnits(ctx context.Context, f casework.UnitFilter) ([]*casework.Unit, int, error) {
	if err := f.Normalize(); err != nil {
		return nil, 0, err
	}
	var w where
	if f.ProjectID != 0 {
		w.add("project_id = ?", f.ProjectID)
	}
	if f.BuildingID != 0 {
		w.add("building_id = ?", f.BuildingID)
	}
	if f.Building != "" {
		w.add("building = ?", f.Building)
	}
	if f.Entrance != "" {
		w.add("entrance = ?", f.Entrance)
	}
	if f.Room != "" {
		w.add("room = ?", f.Room)
	}
	var units []*casework.Unit
	var n int
	b := newReadBatch()
	b.Queue(`SELECT count(*) FROM units`+w.sql(), w.args...).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	args := append(w.args, f.Limit, f.Offset)
	b.Queue(`SELECT `+unitCols+` FROM units`+w.sql()+
		fmt.Sprintf(` ORDER BY building, entrance, room, id LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...).
		Query(func(rows pgx.Rows) (err error) { units, err = collect(rows, nil, scanUnit); return err })
	err := db.readBatch(ctx, b)
	return units, n, dbErr("postgres: find units", err)
}

// where builds a WHERE clause from conditions whose ? stand for the next
// argument.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Owners.

const ownerCols = `id, name, phone, created_at, updated_at`

func scanOwner(row scanner) (*casework.Owner, error) {
	var o casework.Owner
	if err := row.Scan(&o.ID, &o.Name, &o.Phone, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return &o, nil
}

// CreateOwner stores o and sets its ID and timestamps.
func (db *DB) CreateOwner(ctx context.Context, o *casework.Owner) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, "postgres: create owner", func(tx pgx.Tx) error { return db.createOwner(ctx, tx, o) })
}

func (db *DB) createOwner(ctx context.Context, tx pgx.Tx, o *casework.Owner) error {
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `INSERT INTO owners (name, phone, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id`,
		o.Name, o.Phone, now).Scan(&o.ID)
	if err != nil {
		return err
	}
	o.CreatedAt, o.UpdatedAt = now, now
	return nil
}

// UpdateOwner writes every field of o.
func (db *DB) UpdateOwner(ctx context.Context, o *casework.Owner) error {
	if err := o.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.inWrite(ctx, fmt.Sprintf("postgres: update owner %d", o.ID), func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `UPDATE owners SET name = $2, phone = $3, updated_at = $4 WHERE id = $1 RETURNING created_at`,
			o.ID, o.Name, o.Phone, now).Scan(&o.CreatedAt)
	})
	if err != nil {
		return err
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), now
	return nil
}

// FindOwnerByID returns ErrNotFound if the owner does not exist.
func (db *DB) FindOwnerByID(ctx context.Context, id int64) (*casework.Owner, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find owner %d", id), scanOwner,
		`SELECT `+ownerCols+` FROM owners WHERE id = $1`, id)
}

// FindOwnersByPhone returns the owners with the phone, normalised first,
// ordered by ID. A phone that is not a valid number gives a
// *casework.ValidationError.
func (db *DB) FindOwnersByPhone(ctx context.Context, phone string) ([]*casework.Owner, error) {
	p, err := casework.NormalizePhone(phone)
	if err != nil {
		return nil, err
	}
	return readAll(ctx, db, "postgres: find owners by phone", scanOwner,
		`SELECT `+ownerCols+` FROM owners WHERE phone = $1 ORDER BY id`, p)
}

// FindOwnersByName returns the owners called exactly name, spaces around it
// ignored, ordered by ID: at most casework.MaxOwnersByName.
func (db *DB) FindOwnersByName(ctx context.Context, name string) ([]*casework.Owner, error) {
	return readAll(ctx, db, "postgres: find owners by name", scanOwner,
		`SELECT `+ownerCols+` FROM owners WHERE btrim(name) = $1 ORDER BY id LIMIT $2`, strings.TrimSpace(name), casework.MaxOwnersByName)
}

// BindOwnerUnit records that the owner holds the unit; binding twice is not
// an error.
func (db *DB) BindOwnerUnit(ctx context.Context, ownerID, unitID int64) error {
	return db.inWrite(ctx, fmt.Sprintf("postgres: bind owner %d to unit %d", ownerID, unitID),
		func(tx pgx.Tx) error { return db.bindOwnerUnit(ctx, tx, ownerID, unitID) })
}

func (db *DB) bindOwnerUnit(ctx context.Context, tx pgx.Tx, ownerID, unitID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO owner_units (owner_id, unit_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (owner_id, unit_id) DO NOTHING`, ownerID, unitID, db.nowUTC())
	return err
}

// UnbindOwnerUnit removes the binding; ErrNotFound when there is none.
func (db *DB) UnbindOwnerUnit(ctx context.Context, ownerID, unitID int64) error {
	return db.inWrite(ctx, fmt.Sprintf("postgres: unbind owner %d from unit %d", ownerID, unitID), func(tx pgx.Tx) error {
		return deleteOne(ctx, tx, `DELETE FROM owner_units WHERE owner_id = $1 AND unit_id = $2`, ownerID, unitID)
	})
}

// OwnerUnits returns the units an owner holds, ordered by ID.
func (db *DB) OwnerUnits(ctx context.Context, ownerID int64) ([]*casework.Unit, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: units of owner %d", ownerID), scanUnit,
		`SELECT `+prefixCols("u", unitCols)+` FROM units u
		JOIN owner_units ou ON ou.unit_id = u.id WHERE ou.owner_id = $1 ORDER BY u.id`, ownerID)
}

// UnitOwners returns the owners of a unit, ordered by ID.
func (db *DB) UnitOwners(ctx context.Context, unitID int64) ([]*casework.Owner, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: owners of unit %d", unitID), scanOwner,
		`SELECT `+prefixCols("o", ownerCols)+` FROM owners o
		JOIN owner_units ou ON ou.owner_id = o.id WHERE ou.unit_id = $1 ORDER BY o.id`, unitID)
}

// prefixCols qualifies each column of a column list with a table alias.
func prefixCols(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = alias + "." + c
	}
	return strings.Join(parts, ", ")
}

// Parties.

const partyCols = `id, code, name, kind, trade, phone, created_at, updated_at`

func scanParty(row scanner) (*casework.Party, error) {
	var p casework.Party
	if err := row.Scan(&p.ID, &p.Code, &p.Name, &p.Kind, &p.Trade, &p.Phone, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

// CreateParty stores p and sets its ID and timestamps.
func (db *DB) CreateParty(ctx context.Context, p *casework.Party) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, "postgres: create party "+p.Code, func(tx pgx.Tx) error { return db.createParty(ctx, tx, p) })
}

func (db *DB) createParty(ctx context.Context, tx pgx.Tx, p *casework.Party) error {
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `INSERT INTO parties (code, name, kind, trade, phone, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		p.Code, p.Name, p.Kind, p.Trade, p.Phone, now).Scan(&p.ID)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = now, now
	return nil
}

// UpdateParty writes every field of p.
func (db *DB) UpdateParty(ctx context.Context, p *casework.Party) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: update party %d", p.ID),
		func(tx pgx.Tx) error { return db.updateParty(ctx, tx, p) })
}

func (db *DB) updateParty(ctx context.Context, tx pgx.Tx, p *casework.Party) error {
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `UPDATE parties SET code = $2, name = $3, kind = $4, trade = $5, phone = $6, updated_at = $7
		WHERE id = $1 RETURNING created_at`, p.ID, p.Code, p.Name, p.Kind, p.Trade, p.Phone, now).Scan(&p.CreatedAt)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), now
	return nil
}

// FindPartyByID returns ErrNotFound if the party does not exist.
func (db *DB) FindPartyByID(ctx context.Context, id int64) (*casework.Party, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find party %d", id), scanParty,
		`SELECT `+partyCols+` FROM parties WHERE id = $1`, id)
}

// FindPartyByCode returns ErrNotFound if the party does not exist.
func (db *DB) FindPartyByCode(ctx context.Context, code string) (*casework.Party, error) {
	return readOne(ctx, db, "postgres: find party "+code, scanParty,
		`SELECT `+partyCols+` FROM parties WHERE code = $1`, code)
}

// ListParties returns every party ordered by code.
func (db *DB) ListParties(ctx context.Context) ([]*casework.Party, error) {
	return readAll(ctx, db, "postgres: list parties", scanParty,
		`SELECT `+partyCols+` FROM parties ORDER BY code`)
}

// Members.

const memberCols = `id, party_id, name, phone, role, created_at, updated_at`

func scanMember(row scanner) (*casework.Member, error) {
	var m casework.Member
	if err := row.Scan(&m.ID, &m.PartyID, &m.Name, &m.Phone, &m.Role, &m.CreatedAt, &m.UpdatedAt); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return &m, nil
}

// CreateMember stores m and sets its ID and timestamps.
func (db *DB) CreateMember(ctx context.Context, m *casework.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: create member of party %d", m.PartyID),
		func(tx pgx.Tx) error { return db.createMember(ctx, tx, m) })
}

func (db *DB) createMember(ctx context.Context, tx pgx.Tx, m *casework.Member) error {
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `INSERT INTO members (party_id, name, phone, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, m.PartyID, m.Name, m.Phone, m.Role, now).Scan(&m.ID)
	if err != nil {
		return err
	}
	m.CreatedAt, m.UpdatedAt = now, now
	return nil
}

// UpdateMember writes every field of m.
func (db *DB) UpdateMember(ctx context.Context, m *casework.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: update member %d", m.ID),
		func(tx pgx.Tx) error { return db.updateMember(ctx, tx, m) })
}

func (db *DB) updateMember(ctx context.Context, tx pgx.Tx, m *casework.Member) error {
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `UPDATE members SET party_id = $2, name = $3, phone = $4, role = $5, updated_at = $6
		WHERE id = $1 RETURNING created_at`, m.ID, m.PartyID, m.Name, m.Phone, m.Role, now).Scan(&m.CreatedAt)
	if err != nil {
		return err
	}
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), now
	return nil
}

// FindMemberByID returns ErrNotFound if the member does not exist.
func (db *DB) FindMemberByID(ctx context.Context, id int64) (*casework.Member, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find member %d", id), scanMember,
		`SELECT `+memberCols+` FROM members WHERE id = $1`, id)
}

// ListMembers returns a party's members ordered by ID.
func (db *DB) ListMembers(ctx context.Context, partyID int64) ([]*casework.Member, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list members of party %d", partyID), scanMember,
		`SELECT `+memberCols+` FROM members WHERE party_id = $1 ORDER BY id`, partyID)
}

// Routes.

const routeCols = `id, project_id, coalesce(building_id, 0), category, subcategory, party_id, created_at`

func scanRoute(row scanner) (casework.Route, error) {
	var r casework.Route
	if err := row.Scan(&r.ID, &r.ProjectID, &r.BuildingID, &r.Category, &r.Subcategory, &r.PartyID, &r.CreatedAt); err != nil {
		return r, err
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// CreateRoute stores r and sets its ID and creation time.
func (db *DB) CreateRoute(ctx context.Context, r *casework.Route) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, fmt.Sprintf("postgres: create route of project %d", r.ProjectID),
		func(tx pgx.Tx) error { return db.createRoute(ctx, tx, r) })
}

func (db *DB) createRoute(ctx context.Context, tx pgx.Tx, r *casework.Route) error {
	now := db.nowUTC()
	err := tx.QueryRow(ctx, `INSERT INTO routes (project_id, building_id, category, subcategory, party_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		r.ProjectID, nullID(r.BuildingID), r.Category, r.Subcategory, r.PartyID, now).Scan(&r.ID)
	if err != nil {
		return err
	}
	r.CreatedAt = now
	return nil
}

// DeleteRoute removes a route; ErrNotFound if it does not exist.
func (db *DB) DeleteRoute(ctx context.Context, id int64) error {
	return db.inWrite(ctx, fmt.Sprintf("postgres: delete route %d", id), func(tx pgx.Tx) error {
		return deleteOne(ctx, tx, `DELETE FROM routes WHERE id = $1`, id)
	})
}

// deleteOne runs a DELETE that must remove a row: pgx.ErrNoRows when it
// removes none.
func deleteOne(ctx context.Context, tx pgx.Tx, query string, args ...any) error {
	tag, err := tx.Exec(ctx, query, args...)
	if err == nil && tag.RowsAffected() == 0 {
		return pgx.ErrNoRows
	}
	return err
}

// ListRoutes returns a project's routes ordered by ID.
func (db *DB) ListRoutes(ctx context.Context, projectID int64) ([]casework.Route, error) {
	return readAll(ctx, db, fmt.Sprintf("postgres: list routes of project %d", projectID), scanRoute,
		`SELECT `+routeCols+` FROM routes WHERE project_id = $1 ORDER BY id`, projectID)
}
