package casework_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"13812345678":       "13812345678",
		"138 1234 5678":     "13812345678",
		"+86 138-1234-5678": "13812345678",
		"008613812345678":   "13812345678",
		"+44 7700 900123":   "+447700900123",
		"0044 7700 900123":  "+447700900123",
		"+1 (415) 555-0100": "+14155550100",
	}
	for in, want := range good {
		got, err := casework.NormalizePhone(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "12345", "12812345678", "1381234567", "+86 12345", "phone", "138123456789", "<script>"} {
		_, err := casework.NormalizePhone(in)
		var ve *casework.ValidationError
		require.ErrorAs(t, err, &ve, in)
		assert.Equal(t, "phone", ve.Field)
	}
	got, err := casework.NormalizeContactPhone("021-6123 4567")
	require.NoError(t, err)
	assert.Equal(t, "021-61234567", got)
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "138****5678", casework.MaskPhone("13812345678"))
	assert.Equal(t, "+44****0123", casework.MaskPhone("+447700900123"))
	assert.Equal(t, "****", casework.MaskPhone("1234"))
	assert.NotContains(t, casework.MaskPhone("13812345678"), "1234")
}

func TestUnitLabel(t *testing.T) {
	t.Parallel()
	u := casework.Unit{Building: "3", Entrance: "2", Room: "1502"}
	assert.Equal(t, "3-2-1502", u.Label())
	u.Entrance = ""
	assert.Equal(t, "3-1502", u.Label())
}

func TestResolveRouteMostSpecificWins(t *testing.T) {
	t.Parallel()
	eq := casework.CategoryEngineeringQuality
	routes := []casework.Route{
		{ID: 1, ProjectID: 1, PartyID: 100},                                              // anything in project 1
		{ID: 2, ProjectID: 1, Category: eq, PartyID: 101},                                // engineering quality
		{ID: 3, ProjectID: 1, Category: eq, Subcategory: casework.SubLeak, PartyID: 102}, // leaks
		{ID: 4, ProjectID: 1, BuildingID: 3, Category: eq, PartyID: 103},                 // building 3, any eq
		{ID: 5, ProjectID: 1, BuildingID: 3, Category: eq, Subcategory: casework.SubLeak, PartyID: 104},
		{ID: 6, ProjectID: 2, Category: eq, PartyID: 200},
		{ID: 7, ProjectID: 1, Category: eq, PartyID: 999}, // same specificity as 2, created later
	}
	for _, tt := range []struct {
		project, building int64
		c                 casework.Category
		s                 casework.Subcategory
		want              int64
	}{
		{1, 1, eq, casework.SubLeak, 102},
		{1, 1, eq, casework.SubCrack, 101},
		{1, 3, eq, casework.SubLeak, 104},
		{1, 3, eq, casework.SubCrack, 103},
		{1, 1, casework.CategoryFacilitiesEquipment, casework.SubLift, 100},
		{2, 9, eq, casework.SubLeak, 200},
	} {
		got, err := casework.ResolveRoute(routes, tt.project, tt.building, tt.c, tt.s)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got.PartyID, "%+v", tt)
	}
	_, err := casework.ResolveRoute(routes, 2, 1, casework.CategoryOther, casework.SubPraise)
	assert.ErrorIs(t, err, casework.ErrNotFound)
}

func TestCaseValidate(t *testing.T) {
	t.Parallel()
	valid := func() *casework.Case {
		return &casework.Case{
			ProjectID: 1, OwnerName: "张三", OwnerPhone: "+86 138 1234 5678", Location: casework.LocationBathroom,
			Description: "卫生间天花板渗水", Channel: casework.ChannelWeChat, ReceivedBy: casework.ActorBot,
			Category: casework.CategoryEngineeringQuality,
		}
	}
	c := valid()
	require.NoError(t, c.Validate())
	assert.Equal(t, "13812345678", c.OwnerPhone)
	assert.Equal(t, casework.UrgencyNormal, c.Urgency)
	assert.Equal(t, casework.SubOther, c.Subcategory)
	assert.Equal(t, casework.ResponsibilityUndetermined, c.Responsibility)

	for field, mutate := range map[string]func(*casework.Case){
		"project":     func(c *casework.Case) { c.ProjectID = 0 },
		"phone":       func(c *casework.Case) { c.OwnerPhone = "12" },
		"owner_name":  func(c *casework.Case) { c.OwnerName = "a\x00b" },
		"location":    func(c *casework.Case) { c.Location = "attic" },
		"description": func(c *casework.Case) { c.Description = strings.Repeat("漏", 5001) },
		"channel":     func(c *casework.Case) { c.Channel = "fax" },
		"received_by": func(c *casework.Case) { c.ReceivedBy = "" },
		"category":    func(c *casework.Case) { c.Category = "leak" },
		"subcategory": func(c *casework.Case) { c.Subcategory = casework.SubLift },
		"urgency":     func(c *casework.Case) { c.Urgency = "asap" },
	} {
		c := valid()
		mutate(c)
		err := c.Validate()
		var ve *casework.ValidationError
		require.ErrorAs(t, err, &ve, field)
		assert.Equal(t, field, ve.Field)
		assert.ErrorIs(t, err, casework.ErrInvalid)
	}
	c = valid()
	c.Description = "   "
	assert.ErrorIs(t, c.Validate(), casework.ErrInvalid)
	c = valid()
	c.Description = "<script>alert(1)</script>'; DROP TABLE cases; --"
	assert.NoError(t, c.Validate(), "markup and SQL-looking text are stored as text")
}

func TestImportErrorListsLines(t *testing.T) {
	t.Parallel()
	err := &casework.ImportError{Lines: []casework.LineError{{Line: 3, Column: "phone", Reason: "bad"}, {Line: 7, Reason: "unknown unit 9-9-999"}}}
	assert.ErrorIs(t, err, casework.ErrInvalid)
	assert.Contains(t, err.Error(), "line 3: phone: bad")
	assert.Contains(t, err.Error(), "line 7: unknown unit 9-9-999")
	assert.Contains(t, err.Error(), "nothing stored")
}

func TestResponsibilityOf(t *testing.T) {
	t.Parallel()
	for k, want := range map[casework.PartyKind]casework.Responsibility{
		casework.PartyContractor:         casework.ResponsibilityContractor,
		casework.PartyDesignFirm:         casework.ResponsibilityDesignFirm,
		casework.PartySupplier:           casework.ResponsibilitySupplier,
		casework.PartyMaintenance:        casework.ResponsibilitySupplier,
		casework.PartyPropertyManagement: casework.ResponsibilityPropertyManagement,
		casework.PartyInHouse:            casework.ResponsibilityUndetermined,
	} {
		assert.Equal(t, want, casework.ResponsibilityOf(k), string(k))
	}
	assert.Len(t, casework.PartyKinds, 6, "a new kind needs its responsibility here")
}
