package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aftersales/aftersales/casework"
)

// Import applies a whole registry import in one transaction: units (with
// their projects and buildings), parties and members, owners, then routes.
// Every record is inserted or, when its natural key exists, updated. When a
// record is invalid or refers to something that does not exist, in the
// database or in the batch, nothing is stored and the *casework.ImportError
// lists every such record by its line.
func (db *DB) Import(ctx context.Context, batch *casework.ImportBatch) (casework.ImportStats, error) {
	return inWriteResult(ctx, db, func(tx *Tx) (casework.ImportStats, error) { return importBatch(ctx, tx, batch) })
}

// importer is the state of one import: what it wrote, by kind, and the
// problems found.
type importer struct {
	tx       *Tx
	problems []casework.LineError
	written  map[string]map[int64]bool  // kind → IDs written
	labels   map[int64]map[string]int64 // project → unit label → unit ID
}

func (im *importer) wrote(kind string, id int64) {
	if im.written[kind] == nil {
		im.written[kind] = map[int64]bool{}
	}
	im.written[kind][id] = true
}

// problem records a problem of line. A *casework.ValidationError names the
// column, after prefix.
func (im *importer) problem(line int, prefix string, err error) {
	var ve *casework.ValidationError
	if errors.As(err, &ve) {
		im.problems = append(im.problems, casework.LineError{Line: line, Column: prefix + ve.Field, Reason: ve.Reason})
		return
	}
	im.problems = append(im.problems, casework.LineError{Line: line, Reason: err.Error()})
}

func importBatch(ctx context.Context, tx *Tx, b *casework.ImportBatch) (casework.ImportStats, error) {
	im := &importer{tx: tx, written: map[string]map[int64]bool{}, labels: map[int64]map[string]int64{}}
	steps := []func(context.Context, *casework.ImportBatch) error{im.units, im.parties, im.owners, im.routes}
	for _, step := range steps {
		if err := step(ctx, b); err != nil {
			return casework.ImportStats{}, err
		}
	}
	if len(im.problems) > 0 {
		slices.SortStableFunc(im.problems, func(a, b casework.LineError) int { return cmp.Compare(a.Line, b.Line) })
		return casework.ImportStats{}, &casework.ImportError{Lines: im.problems}
	}
	n := func(kind string) int { return len(im.written[kind]) }
	return casework.ImportStats{
		Projects: n("project"), Buildings: n("building"), Units: n("unit"), Owners: n("owner"),
		Parties: n("party"), Members: n("member"), Routes: n("route"),
	}, nil
}

// lookupID runs a query returning one ID; 0 when there is no row.
func (im *importer) lookupID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := im.tx.QueryRowContext(ctx, query, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func (im *importer) units(ctx context.Context, b *casework.ImportBatch) error {
	for _, r := range b.Units {
		projectID, err := im.project(ctx, r)
		if err != nil {
			return err
		}
		if projectID == 0 {
			continue // the problem is recorded
		}
		buildingID, err := im.building(ctx, r, projectID)
		if err != nil {
			return err
		}
		if buildingID == 0 {
			continue
		}
		u := casework.Unit{ProjectID: projectID, BuildingID: buildingID, Building: strings.TrimSpace(r.Building), Entrance: strings.TrimSpace(r.Entrance),
			Floor: r.Floor, Room: strings.TrimSpace(r.Room), DeliveryDate: r.Delivery}
		if err := u.Validate(); err != nil {
			im.problem(r.Line, "", err)
			continue
		}
		id, err := im.lookupID(ctx, "SELECT id FROM units WHERE building_id = ? AND entrance = ? AND room = ?", buildingID, u.Entrance, u.Room)
		if err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		if id == 0 {
			if err := createUnit(ctx, im.tx, &u); err != nil {
				return fmt.Errorf("import line %d: %w", r.Line, err)
			}
			id = u.ID
		} else if _, err := im.tx.ExecContext(ctx,
			"UPDATE units SET floor = ?, delivery_date = ifnull(?, delivery_date), updated_at = ? WHERE id = ?",
			u.Floor, encodeDate(u.DeliveryDate), encodeTime(im.tx.now), id); err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		im.wrote("unit", id)
		delete(im.labels, projectID) // labels are read again when needed
	}
	return nil
}

// project creates or updates the project of a unit record and returns its
// ID, or records a problem and returns 0. A project keeps its name when the
// record has none, and its date when the record's is zero.
func (im *importer) project(ctx context.Context, r casework.UnitRecord) (int64, error) {
	p := casework.Project{Code: strings.TrimSpace(r.ProjectCode), Name: strings.TrimSpace(r.ProjectName), CompletionDate: r.ProjectCompletion}
	id, err := im.lookupID(ctx, "SELECT id FROM projects WHERE code = ?", p.Code)
	if err != nil {
		return 0, fmt.Errorf("import line %d: %w", r.Line, err)
	}
	if id == 0 {
		if err := p.Validate(); err != nil {
			im.problem(r.Line, "", err)
			return 0, nil
		}
		if err := createProject(ctx, im.tx, &p); err != nil {
			return 0, fmt.Errorf("import line %d: %w", r.Line, err)
		}
		id = p.ID
	} else if _, err := im.tx.ExecContext(ctx, `
		UPDATE projects SET name = iif(? = '', name, ?), completion_date = ifnull(?, completion_date), updated_at = ?
		WHERE id = ?`, p.Name, p.Name, encodeDate(p.CompletionDate), encodeTime(im.tx.now), id); err != nil {
		return 0, fmt.Errorf("import line %d: %w", r.Line, err)
	}
	im.wrote("project", id)
	return id, nil
}

// building creates or updates the building of a unit record and returns its
// ID, or records a problem and returns 0.
func (im *importer) building(ctx context.Context, r casework.UnitRecord, projectID int64) (int64, error) {
	b := casework.Building{ProjectID: projectID, Code: strings.TrimSpace(r.Building), CompletionDate: r.BuildingCompletion}
	if err := b.Validate(); err != nil {
		im.problem(r.Line, "", err)
		return 0, nil
	}
	id, err := im.lookupID(ctx, "SELECT id FROM buildings WHERE project_id = ? AND code = ?", projectID, b.Code)
	if err != nil {
		return 0, fmt.Errorf("import line %d: %w", r.Line, err)
	}
	if id == 0 {
		if err := createBuilding(ctx, im.tx, &b); err != nil {
			return 0, fmt.Errorf("import line %d: %w", r.Line, err)
		}
		id = b.ID
	} else if _, err := im.tx.ExecContext(ctx, "UPDATE buildings SET completion_date = ifnull(?, completion_date), updated_at = ? WHERE id = ?",
		encodeDate(b.CompletionDate), encodeTime(im.tx.now), id); err != nil {
		return 0, fmt.Errorf("import line %d: %w", r.Line, err)
	}
	im.wrote("building", id)
	return id, nil
}

func (im *importer) parties(ctx context.Context, b *casework.ImportBatch) error {
	for _, r := range b.Parties {
		p := casework.Party{Code: strings.TrimSpace(r.Code), Name: strings.TrimSpace(r.Name), Kind: r.Kind, Trade: strings.TrimSpace(r.Trade), Phone: r.Phone}
		if err := p.Validate(); err != nil {
			im.problem(r.Line, "", err)
			continue
		}
		id, err := im.lookupID(ctx, "SELECT id FROM parties WHERE code = ?", p.Code)
		if err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		if id == 0 {
			if err := createParty(ctx, im.tx, &p); err != nil {
				return fmt.Errorf("import line %d: %w", r.Line, err)
			}
			id = p.ID
		} else {
			p.ID = id
			if err := updateParty(ctx, im.tx, &p); err != nil {
				return fmt.Errorf("import line %d: %w", r.Line, err)
			}
		}
		im.wrote("party", id)
		if r.MemberName == "" && r.MemberPhone == "" {
			continue
		}
		// A problem anywhere rolls the whole import back, so the party
		// written above is not kept when its member is refused.
		m := &casework.Member{PartyID: id, Name: strings.TrimSpace(r.MemberName), Phone: r.MemberPhone, Role: strings.TrimSpace(r.MemberRole)}
		if err := m.Validate(); err != nil {
			im.problem(r.Line, "member_", err)
			continue
		}
		mid, err := im.lookupID(ctx, "SELECT id FROM members WHERE party_id = ? AND phone = ? ORDER BY id LIMIT 1", id, m.Phone)
		if err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		if mid == 0 {
			if err := createMember(ctx, im.tx, m); err != nil {
				return fmt.Errorf("import line %d: %w", r.Line, err)
			}
			mid = m.ID
		} else if _, err := im.tx.ExecContext(ctx, "UPDATE members SET name = ?, role = ?, updated_at = ? WHERE id = ?",
			m.Name, m.Role, encodeTime(im.tx.now), mid); err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		im.wrote("member", mid)
	}
	return nil
}

// projectID returns the ID of the project with code, or records a problem
// and returns 0.
func (im *importer) projectID(ctx context.Context, line int, code string) (int64, error) {
	id, err := im.lookupID(ctx, "SELECT id FROM projects WHERE code = ?", strings.TrimSpace(code))
	if err != nil {
		return 0, fmt.Errorf("import line %d: %w", line, err)
	}
	if id == 0 {
		im.problems = append(im.problems, casework.LineError{Line: line, Column: "project", Reason: fmt.Sprintf("no project %q", code)})
	}
	return id, nil
}

// unitID returns the ID of the project's unit labelled label, or 0.
func (im *importer) unitID(ctx context.Context, projectID int64, label string) (int64, error) {
	labels, ok := im.labels[projectID]
	if !ok {
		units, err := queryAll(ctx, im.tx, scanUnit, "SELECT "+unitColumns+" FROM "+unitFrom+" WHERE u.project_id = ?", projectID)
		if err != nil {
			return 0, err
		}
		labels = make(map[string]int64, len(units))
		for _, u := range units {
			labels[u.Label()] = u.ID
		}
		im.labels[projectID] = labels
	}
	return labels[strings.TrimSpace(label)], nil
}

func (im *importer) owners(ctx context.Context, b *casework.ImportBatch) error {
	for _, r := range b.Owners {
		o := casework.Owner{Name: strings.TrimSpace(r.Name), Phone: r.Phone}
		valid := true
		if err := o.Validate(); err != nil {
			im.problem(r.Line, "", err)
			valid = false
		}
		projectID, err := im.projectID(ctx, r.Line, r.ProjectCode)
		if err != nil {
			return err
		}
		if projectID == 0 {
			continue
		}
		unitID, err := im.unitID(ctx, projectID, r.Unit)
		if err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		if unitID == 0 {
			im.problems = append(im.problems, casework.LineError{Line: r.Line, Column: "unit", Reason: fmt.Sprintf("project %s has no unit %q", r.ProjectCode, r.Unit)})
			continue
		}
		if !valid {
			continue
		}
		id, err := im.lookupID(ctx, "SELECT id FROM owners WHERE name = ? AND phone = ? ORDER BY id LIMIT 1", o.Name, o.Phone)
		if err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		if id == 0 {
			if err := createOwner(ctx, im.tx, &o); err != nil {
				return fmt.Errorf("import line %d: %w", r.Line, err)
			}
			id = o.ID
		}
		if err := bindOwnerUnit(ctx, im.tx, id, unitID); err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		im.wrote("owner", id)
	}
	return nil
}

func (im *importer) routes(ctx context.Context, b *casework.ImportBatch) error {
	for _, r := range b.Routes {
		rt := casework.Route{Category: r.Category, Subcategory: r.Subcategory}
		projectID, err := im.projectID(ctx, r.Line, r.ProjectCode)
		if err != nil {
			return err
		}
		ok := projectID != 0
		if bc := strings.TrimSpace(r.Building); bc != "" && bc != "*" && projectID != 0 {
			if rt.BuildingID, err = im.lookupID(ctx, "SELECT id FROM buildings WHERE project_id = ? AND code = ?", projectID, bc); err != nil {
				return fmt.Errorf("import line %d: %w", r.Line, err)
			}
			if rt.BuildingID == 0 {
				im.problems = append(im.problems, casework.LineError{Line: r.Line, Column: "building", Reason: fmt.Sprintf("project %s has no building %q", r.ProjectCode, bc)})
				ok = false
			}
		}
		if rt.PartyID, err = im.lookupID(ctx, "SELECT id FROM parties WHERE code = ?", strings.TrimSpace(r.PartyCode)); err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		if rt.PartyID == 0 {
			im.problems = append(im.problems, casework.LineError{Line: r.Line, Column: "party", Reason: fmt.Sprintf("no party %q", r.PartyCode)})
			ok = false
		}
		if !ok {
			continue
		}
		rt.ProjectID = projectID
		if err := rt.Validate(); err != nil {
			im.problem(r.Line, "", err)
			continue
		}
		id, err := im.lookupID(ctx, `SELECT id FROM routes WHERE project_id = ? AND ifnull(building_id, 0) = ? AND category = ? AND subcategory = ?`,
			rt.ProjectID, rt.BuildingID, rt.Category, rt.Subcategory)
		if err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		if id == 0 {
			if err := createRoute(ctx, im.tx, &rt); err != nil {
				return fmt.Errorf("import line %d: %w", r.Line, err)
			}
			id = rt.ID
		} else if _, err := im.tx.ExecContext(ctx, "UPDATE routes SET party_id = ? WHERE id = ?", rt.PartyID, id); err != nil {
			return fmt.Errorf("import line %d: %w", r.Line, err)
		}
		im.wrote("route", id)
	}
	return nil
}
