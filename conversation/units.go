package conversation

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aftersales/aftersales/casework"
)

// unitMatch is a unit an owner's words may mean, with its display label.
type unitMatch struct {
	unit  *casework.Unit
	label string
}

var unitToken = regexp.MustCompile(`[A-Za-z]?\d+[A-Za-z]?`)

// chineseDigits turns the small Chinese numerals owners type for buildings
// and entrances (三栋二单元) into digits.
var chineseDigits = strings.NewReplacer("十", "10", "一", "1", "二", "2", "两", "2", "三", "3", "四", "4", "五", "5", "六", "6", "七", "7", "八", "8", "九", "9")

// matchUnits finds the units an owner means by what they typed, leniently:
// "3栋2单元1502", "3-2-1502", "3号楼2单元1502室", "building 3 unit 2 room 1502",
// "海景苑 3-1502", or just "1502". A project's name or code in the text limits
// the search to it. The result is empty when nothing matches and has several
// entries when the words are ambiguous.
func (e *Engine) matchUnits(ctx context.Context, text string) ([]unitMatch, error) {
	projects, err := e.cfg.Store.ListProjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	lower := strings.ToLower(text)
	var named []*casework.Project
	for _, p := range projects {
		if strings.Contains(lower, strings.ToLower(p.Name)) || strings.Contains(lower, strings.ToLower(p.Code)) {
			named = append(named, p)
			lower = strings.ReplaceAll(lower, strings.ToLower(p.Name), " ")
		}
	}
	if len(named) > 0 {
		projects = named
	}
	tokens := unitToken.FindAllString(chineseDigits.Replace(lower), -1)
	var filters []casework.UnitFilter
	switch len(tokens) {
	case 1:
		filters = append(filters, casework.UnitFilter{Room: strings.ToUpper(tokens[0])})
	case 2:
		// building and room, entrance unknown
		filters = append(filters, casework.UnitFilter{Building: strings.ToUpper(tokens[0]), Room: strings.ToUpper(tokens[1])})
	case 3:
		filters = append(filters, casework.UnitFilter{Building: strings.ToUpper(tokens[0]), Entrance: strings.ToUpper(tokens[1]), Room: strings.ToUpper(tokens[2])})
	default:
		return nil, nil
	}
	byName := make(map[int64]*casework.Project, len(projects))
	var out []unitMatch
	for _, p := range projects {
		byName[p.ID] = p
		for _, f := range filters {
			f.ProjectID, f.Limit = p.ID, 20
			units, _, err := e.cfg.Store.FindUnits(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("find units: %w", err)
			}
			for _, u := range units {
				out = append(out, unitMatch{unit: u, label: p.Name + " " + u.Label()})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out, nil
}
