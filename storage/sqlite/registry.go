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
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createProject(ctx, tx, p); err != nil {
		return err
	}
	return tx.commit()
}

// UpdateProject writes every field of p.
func (db *DB) UpdateProject(ctx context.Context, p *casework.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := updateProject(ctx, tx, p); err != nil {
		return err
	}
	return tx.commit()
}

// FindProjectByID returns the project with the ID.
func (db *DB) FindProjectByID(ctx context.Context, id int64) (*casework.Project, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findProject(ctx, tx, "id = ?", id)
}

// FindProjectByCode returns the project with the code.
func (db *DB) FindProjectByCode(ctx context.Context, code string) (*casework.Project, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findProject(ctx, tx, "code = ?", code)
}

// ListProjects returns every project ordered by code.
func (db *DB) ListProjects(ctx context.Context) ([]*casework.Project, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findProjects(ctx, tx, "1 = 1")
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
	p, err := scanProject(tx.QueryRowContext(ctx, "SELECT "+projectColumns+" FROM projects WHERE "+where, arg))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("project %v", arg)
	case err != nil:
		return nil, fmt.Errorf("find project %v: %w", arg, err)
	}
	return p, nil
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

// --- buildings ---

// CreateBuilding stores b.
func (db *DB) CreateBuilding(ctx context.Context, b *casework.Building) error {
	if err := b.Validate(); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createBuilding(ctx, tx, b); err != nil {
		return err
	}
	return tx.commit()
}

// FindBuildingByID returns the building with the ID.
func (db *DB) FindBuildingByID(ctx context.Context, id int64) (*casework.Building, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findBuildingByID(ctx, tx, id)
}

// ListBuildings returns a project's buildings ordered by code.
func (db *DB) ListBuildings(ctx context.Context, projectID int64) ([]*casework.Building, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	bs, err := queryAll(ctx, tx, scanBuilding, "SELECT "+buildingColumns+" FROM buildings WHERE project_id = ? ORDER BY code", projectID)
	if err != nil {
		return nil, fmt.Errorf("list buildings of project %d: %w", projectID, err)
	}
	return bs, nil
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
	b, err := scanBuilding(tx.QueryRowContext(ctx, "SELECT "+buildingColumns+" FROM buildings WHERE id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("building %d", id)
	case err != nil:
		return nil, fmt.Errorf("find building %d: %w", id, err)
	}
	return b, nil
}

// --- units ---

// CreateUnit stores u.
func (db *DB) CreateUnit(ctx context.Context, u *casework.Unit) error {
	if err := u.Validate(); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createUnit(ctx, tx, u); err != nil {
		return err
	}
	return tx.commit()
}

// UpdateUnit writes every field of u.
func (db *DB) UpdateUnit(ctx context.Context, u *casework.Unit) error {
	if err := u.Validate(); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := updateUnit(ctx, tx, u); err != nil {
		return err
	}
	return tx.commit()
}

// FindUnitByID returns the unit with the ID.
func (db *DB) FindUnitByID(ctx context.Context, id int64) (*casework.Unit, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	u, err := scanUnit(tx.QueryRowContext(ctx, "SELECT "+unitColumns+" FROM "+unitFrom+" WHERE u.id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("unit %d", id)
	case err != nil:
		return nil, fmt.Errorf("find unit %d: %w", id, err)
	}
	return u, nil
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

	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+unitFrom+" WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count units: %w", err)
	}
	units, err := queryAll(ctx, tx, scanUnit,
		"SELECT "+unitColumns+" FROM "+unitFrom+" WHERE "+cond+" ORDER BY b.code, u.entrance, u.room, u.id LIMIT ? OFFSET ?",
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("find units: %w", err)
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
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createOwner(ctx, tx, o); err != nil {
		return err
	}
	return tx.commit()
}

// UpdateOwner writes every field of o.
func (db *DB) UpdateOwner(ctx context.Context, o *casework.Owner) error {
	if err := o.Validate(); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, "UPDATE owners SET name = ?, phone = ?, updated_at = ? WHERE id = ? RETURNING created_at",
		o.Name, o.Phone, encodeTime(tx.now), o.ID).Scan(timeCol{&o.CreatedAt})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("owner %d", o.ID)
	case err != nil:
		return fmt.Errorf("update owner %d: %w", o.ID, err)
	}
	o.UpdatedAt = tx.now
	return tx.commit()
}

// FindOwnerByID returns the owner with the ID.
func (db *DB) FindOwnerByID(ctx context.Context, id int64) (*casework.Owner, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	o, err := scanOwner(tx.QueryRowContext(ctx, "SELECT "+ownerColumns+" FROM owners o WHERE o.id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("owner %d", id)
	case err != nil:
		return nil, fmt.Errorf("find owner %d: %w", id, err)
	}
	return o, nil
}

// FindOwnersByPhone returns the owners with the phone, normalised first,
// ordered by ID.
func (db *DB) FindOwnersByPhone(ctx context.Context, phone string) ([]*casework.Owner, error) {
	p, err := casework.NormalizePhone(phone)
	if err != nil {
		return nil, err
	}
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	owners, err := queryAll(ctx, tx, scanOwner, "SELECT "+ownerColumns+" FROM owners o WHERE o.phone = ? ORDER BY o.id", p)
	if err != nil {
		return nil, fmt.Errorf("find owners by phone: %w", err)
	}
	return owners, nil
}

// BindOwnerUnit records that the owner holds the unit.
func (db *DB) BindOwnerUnit(ctx context.Context, ownerID, unitID int64) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := bindOwnerUnit(ctx, tx, ownerID, unitID); err != nil {
		return err
	}
	return tx.commit()
}

// UnbindOwnerUnit removes the binding.
func (db *DB) UnbindOwnerUnit(ctx context.Context, ownerID, unitID int64) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM owner_units WHERE owner_id = ? AND unit_id = ?", ownerID, unitID)
	if err != nil {
		return fmt.Errorf("unbind owner %d from unit %d: %w", ownerID, unitID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("owner %d holding unit %d", ownerID, unitID)
	}
	return tx.commit()
}

// OwnerUnits returns the units an owner holds, ordered by ID.
func (db *DB) OwnerUnits(ctx context.Context, ownerID int64) ([]*casework.Unit, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	units, err := queryAll(ctx, tx, scanUnit,
		"SELECT "+unitColumns+" FROM owner_units ou JOIN units u ON u.id = ou.unit_id JOIN buildings b ON b.id = u.building_id"+
			" WHERE ou.owner_id = ? ORDER BY u.id", ownerID)
	if err != nil {
		return nil, fmt.Errorf("units of owner %d: %w", ownerID, err)
	}
	return units, nil
}

// UnitOwners returns the owners of a unit, ordered by ID.
func (db *DB) UnitOwners(ctx context.Context, unitID int64) ([]*casework.Owner, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	owners, err := queryAll(ctx, tx, scanOwner,
		"SELECT "+ownerColumns+" FROM owner_units ou JOIN owners o ON o.id = ou.owner_id WHERE ou.unit_id = ? ORDER BY o.id", unitID)
	if err != nil {
		return nil, fmt.Errorf("owners of unit %d: %w", unitID, err)
	}
	return owners, nil
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
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createParty(ctx, tx, p); err != nil {
		return err
	}
	return tx.commit()
}

// UpdateParty writes every field of p.
func (db *DB) UpdateParty(ctx context.Context, p *casework.Party) error {
	if err := p.Validate(); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := updateParty(ctx, tx, p); err != nil {
		return err
	}
	return tx.commit()
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
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	p, err := scanParty(tx.QueryRowContext(ctx, "SELECT "+partyColumns+" FROM parties WHERE "+where, arg))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("party %v", arg)
	case err != nil:
		return nil, fmt.Errorf("find party %v: %w", arg, err)
	}
	return p, nil
}

// ListParties returns every party ordered by code.
func (db *DB) ListParties(ctx context.Context) ([]*casework.Party, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ps, err := queryAll(ctx, tx, scanParty, "SELECT "+partyColumns+" FROM parties ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("list parties: %w", err)
	}
	return ps, nil
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
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createMember(ctx, tx, m); err != nil {
		return err
	}
	return tx.commit()
}

// UpdateMember writes every field of m.
func (db *DB) UpdateMember(ctx context.Context, m *casework.Member) error {
	if err := m.Validate(); err != nil {
		return err
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := updateMember(ctx, tx, m); err != nil {
		return err
	}
	return tx.commit()
}

// FindMemberByID returns the member with the ID.
func (db *DB) FindMemberByID(ctx context.Context, id int64) (*casework.Member, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	m, err := scanMember(tx.QueryRowContext(ctx, "SELECT "+memberColumns+" FROM members WHERE id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound("member %d", id)
	case err != nil:
		return nil, fmt.Errorf("find member %d: %w", id, err)
	}
	return m, nil
}

// ListMembers returns a party's members ordered by ID.
func (db *DB) ListMembers(ctx context.Context, partyID int64) ([]*casework.Member, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ms, err := queryAll(ctx, tx, scanMember, "SELECT "+memberColumns+" FROM members WHERE party_id = ? ORDER BY id", partyID)
	if err != nil {
		return nil, fmt.Errorf("list members of party %d: %w", partyID, err)
	}
	return ms, nil
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
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := createRoute(ctx, tx, r); err != nil {
		return err
	}
	return tx.commit()
}

// DeleteRoute removes a route.
func (db *DB) DeleteRoute(ctx context.Context, id int64) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM routes WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete route %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("route %d", id)
	}
	return tx.commit()
}

// ListRoutes returns a project's routes ordered by ID.
func (db *DB) ListRoutes(ctx context.Context, projectID int64) ([]casework.Route, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rs, err := queryAll(ctx, tx, scanRoute, "SELECT "+routeColumns+" FROM routes WHERE project_id = ? ORDER BY id", projectID)
	if err != nil {
		return nil, fmt.Errorf("list routes of project %d: %w", projectID, err)
	}
	return rs, nil
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
