package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aftersales/aftersales/casework"
)

// --- projects ---

// CreateProject stores p and sets its ID and timestamps.
func (db *DB) CreateProject(ctx context.Context, p *casework.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return createProject(ctx, tx, p) })
}

// UpdateProject writes every field of p.
func (db *DB) UpdateProject(ctx context.Context, p *casework.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return updateProject(ctx, tx, p) })
}

// FindProjectByID returns the project with the ID.
func (db *DB) FindProjectByID(ctx context.Context, id int64) (*casework.Project, error) {
	return inRead(ctx, db, func(tx *Tx) (*casework.Project, error) { return findProject(ctx, tx, "id = ?", id) })
}

// FindProjectByCode returns the project with the code.
func (db *DB) FindProjectByCode(ctx context.Context, code string) (*casework.Project, error) {
	return inRead(ctx, db, func(tx *Tx) (*casework.Project, error) { return findProject(ctx, tx, "code = ?", code) })
}

// ListProjects returns every project ordered by code.
func (db *DB) ListProjects(ctx context.Context) ([]*casework.Project, error) {
	return inRead(ctx, db, func(tx *Tx) ([]*casework.Project, error) { return findProjects(ctx, tx, "1 = 1") })
}

func createProject(ctx context.Context, tx *Tx, p *casework.Project) error {
	terms, err := json.Marshal(p.Warranty)
	if err != nil {
		return fmt.Errorf("project %s: warranty terms: %w", p.Code, err)
	}
	p.CreatedAt, p.UpdatedAt = tx.now, tx.now
	err = tx.QueryRowContext(ctx, `
		INSERT INTO projects (code, name, city, completion_date, warranty, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Code, p.Name, p.City, encodeDate(p.CompletionDate), string(terms), encodeTime(p.CreatedAt), encodeTime(p.UpdatedAt),
	).Scan(&p.ID)
	switch {
	case isUniqueViolation(err):
		return conflict("project code %q is taken", p.Code)
	case err != nil:
		return fmt.Errorf("create project %s: %w", p.Code, err)
	}
	return nil
}

func updateProject(ctx context.Context, tx *Tx, p *casework.Project) error {
	terms, err := json.Marshal(p.Warranty)
	if err != nil {
		return fmt.Errorf("project %s: warranty terms: %w", p.Code, err)
	}
	err = tx.QueryRowContext(ctx, `
		UPDATE projects SET code = ?, name = ?, city = ?, completion_date = ?, warranty = ?, updated_at = ?
		WHERE id = ? RETURNING created_at`,
		p.Code, p.Name, p.City, encodeDate(p.CompletionDate), string(terms), encodeTime(tx.now), p.ID,
	).Scan(timeCol{&p.CreatedAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("project %d", p.ID)
	case isUniqueViolation(err):
		return conflict("project code %q is taken", p.Code)
	case err != nil:
		return fmt.Errorf("update project %d: %w", p.ID, err)
	}
	p.UpdatedAt = tx.now
	return nil
}

const projectColumns = "id, code, name, city, completion_date, warranty, created_at, updated_at"

func scanProject(s scanner) (*casework.Project, error) {
	var p casework.Project
	var terms string
	if err := s.Scan(&p.ID, &p.Code, &p.Name, &p.City, dateCol{&p.CompletionDate}, &terms, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(terms), &p.Warranty); err != nil {
		return nil, fmt.Errorf("project %d: warranty terms: %w", p.ID, err)
	}
	return &p, nil
}

func findProject(ctx context.Context, tx *Tx, where string, arg any) (*casework.Project, error) {
	return queryOne(ctx, tx, fmt.Sprintf("project %v", arg), scanProject, "SELECT "+projectColumns+" FROM projects WHERE "+where, arg)
}

func findProjects(ctx context.Context, tx *Tx, where string, args ...any) ([]*casework.Project, error) {
	return queryAll(ctx, tx, scanProject, "SELECT "+projectColumns+" FROM projects WHERE "+where+" ORDER BY code", args...)
}

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, tx *Tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryOne runs query and scans its one row with scan. No row is
// casework.ErrNotFound naming what; another error is wrapped as "find what".
func queryOne[T any](ctx context.Context, tx *Tx, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(tx.QueryRowContext(ctx, query, args...))
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, sql.ErrNoRows):
		err = notFound("%s", what)
	default:
		err = fmt.Errorf("find %s: %w", what, err)
	}
	var zero T
	return zero, err
}

// deleteOne runs a DELETE that must remove a row. An error is wrapped as
// "op: …"; no row removed is casework.ErrNotFound naming what.
func deleteOne(ctx context.Context, tx *Tx, op, what, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("%s", what)
	}
	return nil
}

// readOne runs query in a read transaction and scans its one row with scan,
// as queryOne does.
func readOne[T any](ctx context.Context, db *DB, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	return inRead(ctx, db, func(tx *Tx) (T, error) { return queryOne(ctx, tx, what, scan, query, args...) })
}

// readAll runs query in a read transaction and scans every row with scan;
// an error is wrapped as "what: …".
func readAll[T any](ctx context.Context, db *DB, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	return inRead(ctx, db, func(tx *Tx) ([]T, error) {
		vs, err := queryAll(ctx, tx, scan, query, args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return vs, nil
	})
}

// --- buildings ---

// CreateBuilding stores b.
func (db *DB) CreateBuilding(ctx context.Context, b *casework.Building) error {
	if err := b.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return createBuilding(ctx, tx, b) })
}

// FindBuildingByID returns the building with the ID.
func (db *DB) FindBuildingByID(ctx context.Context, id int64) (*casework.Building, error) {
	return inRead(ctx, db, func(tx *Tx) (*casework.Building, error) { return findBuildingByID(ctx, tx, id) })
}

// ListBuildings returns a project's buildings ordered by code.
func (db *DB) ListBuildings(ctx context.Context, projectID int64) ([]*casework.Building, error) {
	return readAll(ctx, db, fmt.Sprintf("list buildings of project %d", projectID), scanBuilding,
		"SELECT "+buildingColumns+" FROM buildings WHERE project_id = ? ORDER BY code", projectID)
}

func createBuilding(ctx context.Context, tx *Tx, b *casework.Building) error {
	b.CreatedAt, b.UpdatedAt = tx.now, tx.now
	err := tx.QueryRowContext(ctx, `
		INSERT INTO buildings (project_id, code, name, completion_date, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		b.ProjectID, b.Code, b.Name, encodeDate(b.CompletionDate), encodeTime(b.CreatedAt), encodeTime(b.UpdatedAt),
	).Scan(&b.ID)
	switch {
	case isUniqueViolation(err):
		return conflict("project %d already has a building %q", b.ProjectID, b.Code)
	case isForeignKeyViolation(err):
		return notFound("project %d", b.ProjectID)
	case err != nil:
		return fmt.Errorf("create building %s: %w", b.Code, err)
	}
	return nil
}

const buildingColumns = "id, project_id, code, name, completion_date, created_at, updated_at"

func scanBuilding(s scanner) (*casework.Building, error) {
	var b casework.Building
	err := s.Scan(&b.ID, &b.ProjectID, &b.Code, &b.Name, dateCol{&b.CompletionDate}, timeCol{&b.CreatedAt}, timeCol{&b.UpdatedAt})
	return &b, err
}

func findBuildingByID(ctx context.Context, tx *Tx, id int64) (*casework.Building, error) {
	return queryOne(ctx, tx, fmt.Sprintf("building %d", id), scanBuilding, "SELECT "+buildingColumns+" FROM buildings WHERE id = ?", id)
}

// --- units ---

// CreateUnit stores u.
func (db *DB) CreateUnit(ctx context.Context, u *casework.Unit) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return createUnit(ctx, tx, u) })
}

// UpdateUnit writes every field of u.
func (db *DB) UpdateUnit(ctx context.Context, u *casework.Unit) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return updateUnit(ctx, tx, u) })
}

// FindUnitByID returns the unit with the ID.
func (db *DB) FindUnitByID(ctx context.Context, id int64) (*casework.Unit, error) {
	return readOne(ctx, db, fmt.Sprintf("unit %d", id), scanUnit, "SELECT "+unitColumns+" FROM "+unitFrom+" WHERE u.id = ?", id)
}

// FindUnits returns the units that match f, ordered by building, entrance
// and room, and how many match without paging.
func (db *DB) FindUnits(ctx context.Context, f casework.UnitFilter) ([]*casework.Unit, int, error) {
	if err := f.Normalize(); err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	if f.ProjectID != 0 {
		add("u.project_id = ?", f.ProjectID)
	}
	if f.BuildingID != 0 {
		add("u.building_id = ?", f.BuildingID)
	}
	if f.Building != "" {
		add("b.code = ?", f.Building)
	}
	if f.Entrance != "" {
		add("u.entrance = ?", f.Entrance)
	}
	if f.Room != "" {
		add("u.room = ?", f.Room)
	}
	cond := "1 = 1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}

	var total int
	units, err := inRead(ctx, db, func(tx *Tx) ([]*casework.Unit, error) {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+unitFrom+" WHERE "+cond, args...).Scan(&total); err != nil {
			return nil, fmt.Errorf("count units: %w", err)
		}
		units, err := queryAll(ctx, tx, scanUnit,
			"SELECT "+unitColumns+" FROM "+unitFrom+" WHERE "+cond+" ORDER BY b.code, u.entrance, u.room, u.id LIMIT ? OFFSET ?",
			append(args, f.Limit, f.Offset)...)
		if err != nil {
			return nil, fmt.Errorf("find units: %w", err)
		}
		return units, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return units, total, nil
}

// resolveBuilding checks that u's building exists in u's project and fills
// u.BuildingID from u.Building when it is 0.
func resolveBuilding(ctx context.Context, tx *Tx, u *casework.Unit) error {
	var b *casework.Building
	var err error
	if u.BuildingID == 0 {
		b, err = scanBuilding(tx.QueryRowContext(ctx, "SELECT "+buildingColumns+" FROM buildings WHERE project_id = ? AND code = ?", u.ProjectID, u.Building))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("building %q of project %d", u.Building, u.ProjectID)
		}
	} else {
		b, err = findBuildingByID(ctx, tx, u.BuildingID)
	}
	if err != nil {
		return err
	}
	if b.ProjectID != u.ProjectID {
		return notFound("building %d of project %d", b.ID, u.ProjectID)
	}
	if b.Code != u.Building {
		return casework.Invalid("building", "building %d is %q, not %q", b.ID, b.Code, u.Building)
	}
	u.BuildingID = b.ID
	return nil
}

func createUnit(ctx context.Context, tx *Tx, u *casework.Unit) error {
	if err := resolveBuilding(ctx, tx, u); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = tx.now, tx.now
	err := tx.QueryRowContext(ctx, `
		INSERT INTO units (project_id, building_id, entrance, floor, room, delivery_date, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.ProjectID, u.BuildingID, u.Entrance, u.Floor, u.Room, encodeDate(u.DeliveryDate), encodeTime(u.CreatedAt), encodeTime(u.UpdatedAt),
	).Scan(&u.ID)
	switch {
	case isUniqueViolation(err):
		return conflict("project %d already has unit %s", u.ProjectID, u.Label())
	case isForeignKeyViolation(err):
		return notFound("project %d", u.ProjectID)
	case err != nil:
		return fmt.Errorf("create unit %s: %w", u.Label(), err)
	}
	return nil
}

func updateUnit(ctx context.Context, tx *Tx, u *casework.Unit) error {
	if err := resolveBuilding(ctx, tx, u); err != nil {
		return err
	}
	err := tx.QueryRowContext(ctx, `
		UPDATE units SET project_id = ?, building_id = ?, entrance = ?, floor = ?, room = ?, delivery_date = ?, updated_at = ?
		WHERE id = ? RETURNING created_at`,
		u.ProjectID, u.BuildingID, u.Entrance, u.Floor, u.Room, encodeDate(u.DeliveryDate), encodeTime(tx.now), u.ID,
	).Scan(timeCol{&u.CreatedAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("unit %d", u.ID)
	case isUniqueViolation(err):
		return conflict("project %d already has unit %s", u.ProjectID, u.Label())
	case err != nil:
		return fmt.Errorf("update unit %d: %w", u.ID, err)
	}
	u.UpdatedAt = tx.now
	return nil
}

const (
	unitColumns = "u.id, u.project_id, u.building_id, b.code, u.entrance, u.floor, u.room, u.delivery_date, u.created_at, u.updated_at"
	unitFrom    = "units u JOIN buildings b ON b.id = u.building_id"
)

func scanUnit(s scanner) (*casework.Unit, error) {
	var u casework.Unit
	err := s.Scan(&u.ID, &u.ProjectID, &u.BuildingID, &u.Building, &u.Entrance, &u.Floor, &u.Room,
		dateCol{&u.DeliveryDate}, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	return &u, err
}

// --- owners ---

// CreateOwner stores o.
func (db *DB) CreateOwner(ctx context.Context, o *casework.Owner) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return createOwner(ctx, tx, o) })
}

// UpdateOwner writes every field of o.
func (db *DB) UpdateOwner(ctx context.Context, o *casework.Owner) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return updateOwner(ctx, tx, o) })
}

// FindOwnerByID returns the owner with the ID.
func (db *DB) FindOwnerByID(ctx context.Context, id int64) (*casework.Owner, error) {
	return readOne(ctx, db, fmt.Sprintf("owner %d", id), scanOwner, "SELECT "+ownerColumns+" FROM owners o WHERE o.id = ?", id)
}

// FindOwnersByPhone returns the owners with the phone, normalised first,
// ordered by ID.
func (db *DB) FindOwnersByPhone(ctx context.Context, phone string) ([]*casework.Owner, error) {
	p, err := casework.NormalizePhone(phone)
	if err != nil {
		return nil, err
	}
	return readAll(ctx, db, "find owners by phone", scanOwner, "SELECT "+ownerColumns+" FROM owners o WHERE o.phone = ? ORDER BY o.id", p)
}

// FindOwnersByName returns the owners called exactly name, spaces around it
// ignored, ordered by ID: at most casework.MaxOwnersByName.
func (db *DB) FindOwnersByName(ctx context.Context, name string) ([]*casework.Owner, error) {
	return readAll(ctx, db, "find owners by name", scanOwner, "SELECT "+ownerColumns+" FROM owners o WHERE trim(o.name) = ? ORDER BY o.id LIMIT ?",
		strings.TrimSpace(name), casework.MaxOwnersByName)
}

// BindOwnerUnit records that the owner holds the unit.
func (db *DB) BindOwnerUnit(ctx context.Context, ownerID, unitID int64) error {
	return db.inWrite(ctx, func(tx *Tx) error { return bindOwnerUnit(ctx, tx, ownerID, unitID) })
}

// UnbindOwnerUnit removes the binding.
func (db *DB) UnbindOwnerUnit(ctx context.Context, ownerID, unitID int64) error {
	return db.inWrite(ctx, func(tx *Tx) error {
		return deleteOne(ctx, tx, fmt.Sprintf("unbind owner %d from unit %d", ownerID, unitID), fmt.Sprintf("owner %d holding unit %d", ownerID, unitID),
			"DELETE FROM owner_units WHERE owner_id = ? AND unit_id = ?", ownerID, unitID)
	})
}

// OwnerUnits returns the units an owner holds, ordered by ID.
func (db *DB) OwnerUnits(ctx context.Context, ownerID int64) ([]*casework.Unit, error) {
	return readAll(ctx, db, fmt.Sprintf("units of owner %d", ownerID), scanUnit,
		"SELECT "+unitColumns+" FROM owner_units ou JOIN units u ON u.id = ou.unit_id JOIN buildings b ON b.id = u.building_id"+
			" WHERE ou.owner_id = ? ORDER BY u.id", ownerID)
}

// UnitOwners returns the owners of a unit, ordered by ID.
func (db *DB) UnitOwners(ctx context.Context, unitID int64) ([]*casework.Owner, error) {
	return readAll(ctx, db, fmt.Sprintf("owners of unit %d", unitID), scanOwner,
		"SELECT "+ownerColumns+" FROM owner_units ou JOIN owners o ON o.id = ou.owner_id WHERE ou.unit_id = ? ORDER BY o.id", unitID)
}

func createOwner(ctx context.Context, tx *Tx, o *casework.Owner) error {
	o.CreatedAt, o.UpdatedAt = tx.now, tx.now
	err := tx.QueryRowContext(ctx, "INSERT INTO owners (name, phone, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id",
		o.Name, o.Phone, encodeTime(o.CreatedAt), encodeTime(o.UpdatedAt)).Scan(&o.ID)
	if err != nil {
		return fmt.Errorf("create owner: %w", err)
	}
	return nil
}

func updateOwner(ctx context.Context, tx *Tx, o *casework.Owner) error {
	err := tx.QueryRowContext(ctx, "UPDATE owners SET name = ?, phone = ?, updated_at = ? WHERE id = ? RETURNING created_at",
		o.Name, o.Phone, encodeTime(tx.now), o.ID).Scan(timeCol{&o.CreatedAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("owner %d", o.ID)
	case err != nil:
		return fmt.Errorf("update owner %d: %w", o.ID, err)
	}
	o.UpdatedAt = tx.now
	return nil
}

func bindOwnerUnit(ctx context.Context, tx *Tx, ownerID, unitID int64) error {
	var owner, unit bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM owners WHERE id = ?), EXISTS (SELECT 1 FROM units WHERE id = ?)",
		ownerID, unitID).Scan(&owner, &unit); err != nil {
		return fmt.Errorf("bind owner %d to unit %d: %w", ownerID, unitID, err)
	}
	if !owner {
		return notFound("owner %d", ownerID)
	}
	if !unit {
		return notFound("unit %d", unitID)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO owner_units (owner_id, unit_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		ownerID, unitID, encodeTime(tx.now)); err != nil {
		return fmt.Errorf("bind owner %d to unit %d: %w", ownerID, unitID, err)
	}
	return nil
}

const ownerColumns = "o.id, o.name, o.phone, o.created_at, o.updated_at"

func scanOwner(s scanner) (*casework.Owner, error) {
	var o casework.Owner
	err := s.Scan(&o.ID, &o.Name, &o.Phone, timeCol{&o.CreatedAt}, timeCol{&o.UpdatedAt})
	return &o, err
}

// --- parties and members ---

// CreateParty stores p.
func (db *DB) CreateParty(ctx context.Context, p *casework.Party) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return createParty(ctx, tx, p) })
}

// UpdateParty writes every field of p.
func (db *DB) UpdateParty(ctx context.Context, p *casework.Party) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return updateParty(ctx, tx, p) })
}

// FindPartyByID returns the party with the ID.
func (db *DB) FindPartyByID(ctx context.Context, id int64) (*casework.Party, error) {
	return db.findParty(ctx, "id = ?", id)
}

// FindPartyByCode returns the party with the code.
func (db *DB) FindPartyByCode(ctx context.Context, code string) (*casework.Party, error) {
	return db.findParty(ctx, "code = ?", code)
}

func (db *DB) findParty(ctx context.Context, where string, arg any) (*casework.Party, error) {
	return readOne(ctx, db, fmt.Sprintf("party %v", arg), scanParty, "SELECT "+partyColumns+" FROM parties WHERE "+where, arg)
}

// ListParties returns every party ordered by code.
func (db *DB) ListParties(ctx context.Context) ([]*casework.Party, error) {
	return readAll(ctx, db, "list parties", scanParty, "SELECT "+partyColumns+" FROM parties ORDER BY code")
}

func createParty(ctx context.Context, tx *Tx, p *casework.Party) error {
	p.CreatedAt, p.UpdatedAt = tx.now, tx.now
	err := tx.QueryRowContext(ctx, `
		INSERT INTO parties (code, name, kind, trade, phone, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Code, p.Name, p.Kind, p.Trade, p.Phone, encodeTime(p.CreatedAt), encodeTime(p.UpdatedAt),
	).Scan(&p.ID)
	switch {
	case isUniqueViolation(err):
		return conflict("party code %q is taken", p.Code)
	case err != nil:
		return fmt.Errorf("create party %s: %w", p.Code, err)
	}
	return nil
}

func updateParty(ctx context.Context, tx *Tx, p *casework.Party) error {
	err := tx.QueryRowContext(ctx, `
		UPDATE parties SET code = ?, name = ?, kind = ?, trade = ?, phone = ?, updated_at = ?
		WHERE id = ? RETURNING created_at`,
		p.Code, p.Name, p.Kind, p.Trade, p.Phone, encodeTime(tx.now), p.ID,
	).Scan(timeCol{&p.CreatedAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("party %d", p.ID)
	case isUniqueViolation(err):
		return conflict("party code %q is taken", p.Code)
	case err != nil:
		return fmt.Errorf("update party %d: %w", p.ID, err)
	}
	p.UpdatedAt = tx.now
	return nil
}

const partyColumns = "id, code, name, kind, trade, phone, created_at, updated_at"

func scanParty(s scanner) (*casework.Party, error) {
	var p casework.Party
	err := s.Scan(&p.ID, &p.Code, &p.Name, &p.Kind, &p.Trade, &p.Phone, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt})
	return &p, err
}

// CreateMember stores m.
func (db *DB) CreateMember(ctx context.Context, m *casework.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return createMember(ctx, tx, m) })
}

// UpdateMember writes every field of m.
func (db *DB) UpdateMember(ctx context.Context, m *casework.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return updateMember(ctx, tx, m) })
}

// FindMemberByID returns the member with the ID.
func (db *DB) FindMemberByID(ctx context.Context, id int64) (*casework.Member, error) {
	return readOne(ctx, db, fmt.Sprintf("member %d", id), scanMember, "SELECT "+memberColumns+" FROM members WHERE id = ?", id)
}

// ListMembers returns a party's members ordered by ID.
func (db *DB) ListMembers(ctx context.Context, partyID int64) ([]*casework.Member, error) {
	return readAll(ctx, db, fmt.Sprintf("list members of party %d", partyID), scanMember,
		"SELECT "+memberColumns+" FROM members WHERE party_id = ? ORDER BY id", partyID)
}

func createMember(ctx context.Context, tx *Tx, m *casework.Member) error {
	m.CreatedAt, m.UpdatedAt = tx.now, tx.now
	err := tx.QueryRowContext(ctx, `
		INSERT INTO members (party_id, name, phone, role, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		m.PartyID, m.Name, m.Phone, m.Role, encodeTime(m.CreatedAt), encodeTime(m.UpdatedAt),
	).Scan(&m.ID)
	switch {
	case isForeignKeyViolation(err):
		return notFound("party %d", m.PartyID)
	case err != nil:
		return fmt.Errorf("create member: %w", err)
	}
	return nil
}

func updateMember(ctx context.Context, tx *Tx, m *casework.Member) error {
	err := tx.QueryRowContext(ctx, `
		UPDATE members SET party_id = ?, name = ?, phone = ?, role = ?, updated_at = ?
		WHERE id = ? RETURNING created_at`,
		m.PartyID, m.Name, m.Phone, m.Role, encodeTime(tx.now), m.ID,
	).Scan(timeCol{&m.CreatedAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("member %d", m.ID)
	case isForeignKeyViolation(err):
		return notFound("party %d", m.PartyID)
	case err != nil:
		return fmt.Errorf("update member %d: %w", m.ID, err)
	}
	m.UpdatedAt = tx.now
	return nil
}

const memberColumns = "id, party_id, name, phone, role, created_at, updated_at"

func scanMember(s scanner) (*casework.Member, error) {
	var m casework.Member
	err := s.Scan(&m.ID, &m.PartyID, &m.Name, &m.Phone, &m.Role, timeCol{&m.CreatedAt}, timeCol{&m.UpdatedAt})
	return &m, err
}

// --- routes ---

// CreateRoute stores r.
func (db *DB) CreateRoute(ctx context.Context, r *casework.Route) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error { return createRoute(ctx, tx, r) })
}

// DeleteRoute removes a route.
func (db *DB) DeleteRoute(ctx context.Context, id int64) error {
	return db.inWrite(ctx, func(tx *Tx) error {
		return deleteOne(ctx, tx, fmt.Sprintf("delete route %d", id), fmt.Sprintf("route %d", id), "DELETE FROM routes WHERE id = ?", id)
	})
}

// ListRoutes returns a project's routes ordered by ID.
func (db *DB) ListRoutes(ctx context.Context, projectID int64) ([]casework.Route, error) {
	return readAll(ctx, db, fmt.Sprintf("list routes of project %d", projectID), scanRoute,
		"SELECT "+routeColumns+" FROM routes WHERE project_id = ? ORDER BY id", projectID)
}

func createRoute(ctx context.Context, tx *Tx, r *casework.Route) error {
	r.CreatedAt = tx.now
	err := tx.QueryRowContext(ctx, `
		INSERT INTO routes (project_id, building_id, category, subcategory, party_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		r.ProjectID, nullID(r.BuildingID), r.Category, r.Subcategory, r.PartyID, encodeTime(r.CreatedAt),
	).Scan(&r.ID)
	switch {
	case isUniqueViolation(err):
		return conflict("project %d already has a route for building %d, %q/%q", r.ProjectID, r.BuildingID, r.Category, r.Subcategory)
	case isForeignKeyViolation(err):
		return notFound("project %d, building %d or party %d", r.ProjectID, r.BuildingID, r.PartyID)
	case err != nil:
		return fmt.Errorf("create route: %w", err)
	}
	return nil
}

const routeColumns = "id, project_id, building_id, category, subcategory, party_id, created_at"

func scanRoute(s scanner) (casework.Route, error) {
	var r casework.Route
	err := s.Scan(&r.ID, &r.ProjectID, idCol{&r.BuildingID}, &r.Category, &r.Subcategory, &r.PartyID, timeCol{&r.CreatedAt})
	return r, err
}
