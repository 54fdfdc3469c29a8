package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aftersales/aftersales/casework"
)

// Import applies a whole import in one transaction: units (with their
// projects and buildings), then parties and members, then owners, then
// routes, so that a record may refer to one earlier in the same batch. Every
// record that refers to something missing, or is invalid, becomes a line of
// an *casework.ImportError, and then nothing is stored.
//
// References are looked up before anything is written, so that a bad record
// never aborts the transaction and every bad line is reported.
func (db *DB) Import(ctx context.Context, batch *casework.ImportBatch) (casework.ImportStats, error) {
	var stats casework.ImportStats
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		im := &importer{db: db, tx: tx, now: db.nowUTC(), touched: map[string]map[int64]bool{}}
		if err := im.run(ctx, batch); err != nil {
			return err
		}
		if len(im.lines) > 0 {
			return &casework.ImportError{Lines: im.lines}
		}
		stats = im.stats()
		return nil
	})
	if err != nil {
		var ie *casework.ImportError
		if errors.As(err, &ie) {
			return casework.ImportStats{}, err
		}
		return casework.ImportStats{}, dbErr("postgres: import", err)
	}
	return stats, nil
}

// importer applies one batch within a transaction.
type importer struct {
	db    *DB
	tx    pgx.Tx
	now   time.Time // one clock reading for the whole import
	lines []casework.LineError
	// touched holds, by kind, the IDs of the records written, so that stats
	// count each record once however many lines name it.
	touched map[string]map[int64]bool
}

func (im *importer) touch(kind string, id int64) {
	if im.touched[kind] == nil {
		im.touched[kind] = map[int64]bool{}
	}
	im.touched[kind][id] = true
}

func (im *importer) stats() casework.ImportStats {
	return casework.ImportStats{
		Projects: len(im.touched["project"]), Buildings: len(im.touched["building"]), Units: len(im.touched["unit"]),
		Owners: len(im.touched["owner"]), Parties: len(im.touched["party"]), Members: len(im.touched["member"]),
		Routes: len(im.touched["route"]),
	}
}

// fail records a problem on a line; a *casework.ValidationError names its
// column.
func (im *importer) fail(line int, column string, err error) {
	var ve *casework.ValidationError
	if errors.As(err, &ve) {
		if column == "" {
			column = ve.Field
		}
		im.lines = append(im.lines, casework.LineError{Line: line, Column: column, Reason: ve.Reason})
		return
	}
	im.lines = append(im.lines, casework.LineError{Line: line, Column: column, Reason: err.Error()})
}

func (im *importer) run(ctx context.Context, b *casework.ImportBatch) error {
	for _, r := range b.Units {
		if err := im.unit(ctx, r); err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
	}
	for _, r := range b.Parties {
		if err := im.party(ctx, r); err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
	}
	for _, r := range b.Owners {
		if err := im.owner(ctx, r); err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
	}
	for _, r := range b.Routes {
		if err := im.route(ctx, r); err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
	}
	return nil
}

// lookup runs a query that returns one ID, and reports whether there was one.
func (im *importer) lookup(ctx context.Context, sql string, args ...any) (int64, bool, error) {
	var id int64
	err := im.tx.QueryRow(ctx, sql, args...).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// unit creates or updates a unit record's project, building and unit. It
// returns only database errors; problems of the record go to im.lines.
func (im *importer) unit(ctx context.Context, r casework.UnitRecord) error {
	if err := (&casework.Project{Code: r.ProjectCode, Name: "-"}).Validate(); err != nil {
		im.fail(r.Line, "project_code", err)
		return nil
	}
	u := &casework.Unit{ProjectID: -1, Building: r.Building, Entrance: r.Entrance, Floor: r.Floor, Room: r.Room, DeliveryDate: r.Delivery}
	if err := u.Validate(); err != nil {
		im.fail(r.Line, "", err)
		return nil
	}
	now := im.now

	projectID, ok, err := im.lookup(ctx, `UPDATE projects SET
			name = CASE WHEN $2 = '' THEN name ELSE $2 END,
			completion_date = coalesce($3, completion_date), updated_at = $4
		WHERE code = $1 RETURNING id`, r.ProjectCode, r.ProjectName, pgDate(r.ProjectCompletion), now)
	if err != nil {
		return err
	}
	if !ok {
		if r.ProjectName == "" {
			im.fail(r.Line, "project_name", fmt.Errorf("project %s does not exist, and a name is needed to create it", r.ProjectCode))
			return nil
		}
		p := &casework.Project{Code: r.ProjectCode, Name: r.ProjectName, CompletionDate: r.ProjectCompletion}
		if err := im.db.createProject(ctx, im.tx, p); err != nil {
			return err
		}
		projectID = p.ID
	}
	im.touch("project", projectID)

	buildingID, ok, err := im.lookup(ctx, `UPDATE buildings SET completion_date = coalesce($3, completion_date), updated_at = $4
		WHERE project_id = $1 AND code = $2 RETURNING id`, projectID, r.Building, pgDate(r.BuildingCompletion), now)
	if err != nil {
		return err
	}
	if !ok {
		b := &casework.Building{ProjectID: projectID, Code: r.Building, CompletionDate: r.BuildingCompletion}
		if err := im.db.createBuilding(ctx, im.tx, b); err != nil {
			return err
		}
		buildingID = b.ID
	}
	im.touch("building", buildingID)

	unitID, ok, err := im.lookup(ctx, `UPDATE units SET floor = $5, delivery_date = coalesce($6, delivery_date), updated_at = $7
		WHERE project_id = $1 AND building = $2 AND entrance = $3 AND room = $4 RETURNING id`,
		projectID, r.Building, r.Entrance, r.Room, r.Floor, pgDate(r.Delivery), now)
	if err != nil {
		return err
	}
	if !ok {
		u.ProjectID, u.BuildingID = projectID, buildingID
		if err := im.db.createUnit(ctx, im.tx, u); err != nil {
			return err
		}
		unitID = u.ID
	}
	im.touch("unit", unitID)
	return nil
}

// party creates or updates a party record's party and, when it names one,
// member.
func (im *importer) party(ctx context.Context, r casework.PartyRecord) error {
	p := &casework.Party{Code: r.Code, Name: r.Name, Kind: r.Kind, Trade: r.Trade, Phone: r.Phone}
	if err := p.Validate(); err != nil {
		im.fail(r.Line, "", err)
		return nil
	}
	var m *casework.Member
	if r.MemberName != "" || r.MemberPhone != "" {
		m = &casework.Member{PartyID: -1, Name: r.MemberName, Phone: r.MemberPhone, Role: r.MemberRole}
		if err := m.Validate(); err != nil {
			var ve *casework.ValidationError
			if errors.As(err, &ve) {
				im.fail(r.Line, "member_"+ve.Field, err)
			} else {
				im.fail(r.Line, "", err)
			}
			return nil
		}
	}
	now := im.now
	partyID, ok, err := im.lookup(ctx, `UPDATE parties SET name = $2, kind = $3, trade = $4, phone = $5, updated_at = $6
		WHERE code = $1 RETURNING id`, p.Code, p.Name, p.Kind, p.Trade, p.Phone, now)
	if err != nil {
		return err
	}
	if !ok {
		if err := im.db.createParty(ctx, im.tx, p); err != nil {
			return err
		}
		partyID = p.ID
	}
	im.touch("party", partyID)
	if m == nil {
		return nil
	}
	memberID, ok, err := im.lookup(ctx, `UPDATE members SET name = $3, role = $4, updated_at = $5
		WHERE id = (SELECT min(id) FROM members WHERE party_id = $1 AND phone = $2) RETURNING id`,
		partyID, m.Phone, m.Name, m.Role, now)
	if err != nil {
		return err
	}
	if !ok {
		m.PartyID = partyID
		if err := im.db.createMember(ctx, im.tx, m); err != nil {
			return err
		}
		memberID = m.ID
	}
	im.touch("member", memberID)
	return nil
}

// owner binds an owner record's owner, matched by name and phone or created,
// to an existing unit.
func (im *importer) owner(ctx context.Context, r casework.OwnerRecord) error {
	o := &casework.Owner{Name: r.Name, Phone: r.Phone}
	if err := o.Validate(); err != nil {
		im.fail(r.Line, "", err)
		return nil
	}
	projectID, ok, err := im.lookup(ctx, `SELECT id FROM projects WHERE code = $1`, r.ProjectCode)
	if err != nil {
		return err
	}
	if !ok {
		im.fail(r.Line, "project_code", fmt.Errorf("project %s does not exist", r.ProjectCode))
		return nil
	}
	// The label as casework.Unit.Label writes it: 3-2-1502, or 3-1502
	// without an entrance.
	var unitIDs []int64
	rows, err := im.tx.Query(ctx, `SELECT id FROM units WHERE project_id = $1
		AND CASE WHEN entrance = '' THEN building || '-' || room ELSE building || '-' || entrance || '-' || room END = $2
		ORDER BY id`, projectID, r.Unit)
	if unitIDs, err = collect(rows, err, func(s scanner) (id int64, err error) { return id, s.Scan(&id) }); err != nil {
		return err
	}
	switch len(unitIDs) {
	case 0:
		im.fail(r.Line, "unit", fmt.Errorf("project %s has no unit %s", r.ProjectCode, r.Unit))
		return nil
	case 1:
	default:
		im.fail(r.Line, "unit", fmt.Errorf("project %s has several units labelled %s", r.ProjectCode, r.Unit))
		return nil
	}
	ownerID, ok, err := im.lookup(ctx, `SELECT min(id) FROM owners WHERE name = $1 AND phone = $2 HAVING count(*) > 0`, o.Name, o.Phone)
	if err != nil {
		return err
	}
	if !ok {
		if err := im.db.createOwner(ctx, im.tx, o); err != nil {
			return err
		}
		ownerID = o.ID
	}
	im.touch("owner", ownerID)
	return im.db.bindOwnerUnit(ctx, im.tx, ownerID, unitIDs[0])
}

// route creates or updates a route record's route.
func (im *importer) route(ctx context.Context, r casework.RouteRecord) error {
	rt := &casework.Route{ProjectID: -1, PartyID: -1, Category: r.Category, Subcategory: r.Subcategory}
	if err := rt.Validate(); err != nil {
		im.fail(r.Line, "", err)
		return nil
	}
	bad := false
	projectID, ok, err := im.lookup(ctx, `SELECT id FROM projects WHERE code = $1`, r.ProjectCode)
	if err != nil {
		return err
	}
	if !ok {
		im.fail(r.Line, "project_code", fmt.Errorf("project %s does not exist", r.ProjectCode))
		bad = true
	}
	var buildingID int64
	if ok && r.Building != "" && r.Building != "*" {
		buildingID, ok, err = im.lookup(ctx, `SELECT id FROM buildings WHERE project_id = $1 AND code = $2`, projectID, r.Building)
		if err != nil {
			return err
		}
		if !ok {
			im.fail(r.Line, "building", fmt.Errorf("project %s has no building %s", r.ProjectCode, r.Building))
			bad = true
		}
	}
	partyID, ok, err := im.lookup(ctx, `SELECT id FROM parties WHERE code = $1`, r.PartyCode)
	if err != nil {
		return err
	}
	if !ok {
		im.fail(r.Line, "party_code", fmt.Errorf("party %s does not exist", r.PartyCode))
		bad = true
	}
	if bad {
		return nil
	}
	routeID, _, err := im.lookup(ctx, `INSERT INTO routes (project_id, building_id, category, subcategory, party_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (project_id, COALESCE(building_id, 0), category, subcategory) DO UPDATE SET party_id = EXCLUDED.party_id
		RETURNING id`, projectID, nullID(buildingID), rt.Category, rt.Subcategory, partyID, im.now)
	if err != nil {
		return err
	}
	im.touch("route", routeID)
	return nil
}
