package casework_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func d(s string) casework.Date {
	if s == "" {
		return casework.Date{}
	}
	v, err := casework.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestCheckWarranty(t *testing.T) {
	t.Parallel()
	def := casework.DefaultWarrantyTerms()
	longer := def.Merge(casework.WarrantyTerms{
		Statutory: map[casework.Part]casework.Period{casework.PartWaterproofing: {Years: 8}},
		Promised:  map[casework.Part]casework.Period{casework.PartDecoration: {Years: 3}},
	})
	northEast := def.Merge(casework.WarrantyTerms{HeatingSeason: casework.Season{StartMonth: time.October, StartDay: 20, EndMonth: time.April, EndDay: 20}})
	tests := []struct {
		name                        string
		terms                       casework.WarrantyTerms
		part                        casework.Part
		completion, delivery, today string
		status                      casework.WarrantyStatus
		until, basis                string
	}{
		{"leak within 5 years of completion", def, casework.PartWaterproofing, "2021-06-30", "", "2026-06-30", casework.WarrantyIn, "2026-06-30", "statutory"},
		{"leak the day after 5 years", def, casework.PartWaterproofing, "2021-06-30", "", "2026-07-01", casework.WarrantyOut, "2026-06-30", "statutory"},
		{"delivery promise outlasts the statutory period", def, casework.PartWaterproofing, "2021-06-30", "2021-12-20", "2026-11-27", casework.WarrantyIn, "2026-12-20", "promised"},
		{"statutory period outlasts a shorter promise", def.Merge(casework.WarrantyTerms{Promised: map[casework.Part]casework.Period{casework.PartWaterproofing: {Years: 1}}}),
			casework.PartWaterproofing, "2021-06-30", "2021-12-20", "2026-06-01", casework.WarrantyIn, "2026-06-30", "statutory"},
		{"decoration 2 years from a leap day ends 28 February", def, casework.PartDecoration, "2024-02-29", "", "2026-02-28", casework.WarrantyIn, "2026-02-28", "statutory"},
		{"decoration from a leap day, 1 March is out", def, casework.PartDecoration, "2024-02-29", "", "2026-03-01", casework.WarrantyOut, "2026-02-28", "statutory"},
		{"leap day to leap day", def.Merge(casework.WarrantyTerms{Statutory: map[casework.Part]casework.Period{casework.PartDecoration: {Years: 4}}}),
			casework.PartDecoration, "2024-02-29", "", "2028-02-29", casework.WarrantyIn, "2028-02-29", "statutory"},
		{"pipework 2 years over a leap year", def, casework.PartPipework, "2023-03-01", "", "2025-03-01", casework.WarrantyIn, "2025-03-01", "statutory"},
		{"months clamp to the month's end", def.Merge(casework.WarrantyTerms{Promised: map[casework.Part]casework.Period{casework.PartEquipment: {Months: 18}}}),
			casework.PartEquipment, "", "2024-08-31", "2026-02-28", casework.WarrantyIn, "2026-02-28", "promised"},
		{"2 heating seasons after a summer completion", def, casework.PartHeating, "2024-06-28", "", "2026-03-15", casework.WarrantyIn, "2026-03-15", "statutory"},
		{"2 heating seasons, the day after", def, casework.PartHeating, "2024-06-28", "", "2026-03-16", casework.WarrantyOut, "2026-03-15", "statutory"},
		{"a season already running at completion does not count", def, casework.PartHeating, "2024-12-01", "", "2027-01-10", casework.WarrantyIn, "2027-03-15", "statutory"},
		{"a season starting on the completion day does not count", def, casework.PartHeating, "2024-11-15", "", "2027-03-15", casework.WarrantyIn, "2027-03-15", "statutory"},
		{"a season starting the day after completion counts", def, casework.PartHeating, "2024-11-14", "", "2026-03-16", casework.WarrantyOut, "2026-03-15", "statutory"},
		{"heating season configured for the north-east", northEast, casework.PartHeating, "2024-06-28", "", "2026-04-20", casework.WarrantyIn, "2026-04-20", "statutory"},
		{"2 cooling seasons", def, casework.PartCooling, "2024-06-28", "", "2026-09-30", casework.WarrantyIn, "2026-09-30", "statutory"},
		{"structure: design service life", def, casework.PartStructure, "2024-06-28", "", "2070-01-01", casework.WarrantyIn, "2074-06-28", "statutory"},
		{"project with a longer city rule", longer, casework.PartWaterproofing, "2019-06-30", "", "2026-11-27", casework.WarrantyIn, "2027-06-30", "statutory"},
		{"project with a longer promise", longer, casework.PartDecoration, "2023-06-30", "2024-01-15", "2026-11-27", casework.WarrantyIn, "2027-01-15", "promised"},
		{"no dates on record", def, casework.PartDecoration, "", "", "2026-11-27", casework.WarrantyUnknown, "", ""},
		{"a complaint is not a building defect", def, casework.PartNone, "2024-06-28", "", "2026-11-27", casework.WarrantyNone, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := casework.CheckWarranty(tt.terms, tt.part, d(tt.completion), d(tt.delivery), d(tt.today))
			assert.Equal(t, tt.status, got.Status, "rule: %s", got.Rule)
			assert.Equal(t, tt.until, got.Until.String())
			assert.Equal(t, tt.basis, got.Basis)
			assert.NotEmpty(t, got.Rule)
		})
	}
}

func TestWarrantyRuleNamesItsBasis(t *testing.T) {
	t.Parallel()
	got := casework.CheckWarranty(casework.DefaultWarrantyTerms(), casework.PartWaterproofing, d("2021-06-30"), d("2021-12-20"), d("2026-11-27"))
	assert.Equal(t, "waterproofing: 5 years from delivery 2021-12-20 (promised)", got.Rule)
}

func TestPartOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		c    casework.Category
		s    casework.Subcategory
		want casework.Part
	}{
		{casework.CategoryEngineeringQuality, casework.SubLeak, casework.PartWaterproofing},
		{casework.CategoryEngineeringQuality, casework.SubStructural, casework.PartStructure},
		{casework.CategoryEngineeringQuality, casework.SubPlumbing, casework.PartPipework},
		{casework.CategoryEngineeringQuality, casework.SubElectrical, casework.PartPipework},
		{casework.CategoryEngineeringQuality, casework.SubCrack, casework.PartDecoration},
		{casework.CategoryEngineeringQuality, casework.SubDoorWindow, casework.PartDecoration},
		{casework.CategoryFacilitiesEquipment, casework.SubHeating, casework.PartHeating},
		{casework.CategoryFacilitiesEquipment, casework.SubCooling, casework.PartCooling},
		{casework.CategoryFacilitiesEquipment, casework.SubLift, casework.PartEquipment},
		{casework.CategoryServiceAttitude, casework.SubStaff, casework.PartNone},
		{casework.CategoryPolicyConsultation, casework.SubFees, casework.PartNone},
	} {
		assert.Equal(t, tt.want, casework.PartOf(tt.c, tt.s), "%s/%s", tt.c, tt.s)
	}
}

func TestWarrantyTermsValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, casework.DefaultWarrantyTerms().Validate())
	bad := []casework.WarrantyTerms{
		{Statutory: map[casework.Part]casework.Period{"roof": {Years: 5}}},
		{Statutory: map[casework.Part]casework.Period{casework.PartDecoration: {Years: -1}}},
		{Promised: map[casework.Part]casework.Period{casework.PartDecoration: {Seasons: 2}}},
		{Promised: map[casework.Part]casework.Period{casework.PartHeating: {Seasons: 2, Years: 1}}},
		{HeatingSeason: casework.Season{StartMonth: 2, StartDay: 30, EndMonth: 3, EndDay: 1}},
		{CoolingSeason: casework.Season{StartMonth: 13, StartDay: 1, EndMonth: 3, EndDay: 1}},
	}
	for i, w := range bad {
		err := w.Validate()
		assert.ErrorIs(t, err, casework.ErrInvalid, "case %d", i)
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"2024-02-29", "2024/02/29", "2024.02.29", "2024/2/29"} {
		got, err := casework.ParseDate(in)
		require.NoError(t, err, in)
		assert.Equal(t, "2024-02-29", got.String())
	}
	for _, in := range []string{"2023-02-29", "29/02/2024", "", "tomorrow", "2024-13-01"} {
		_, err := casework.ParseDate(in)
		assert.Error(t, err, in)
	}
	assert.Equal(t, "2025-02-28", d("2024-01-31").AddMonths(13).String())
	assert.Equal(t, "2024-03-01", d("2024-02-28").AddDays(2).String())
	assert.True(t, d("2024-02-28").Before(d("2024-02-29")))
	assert.True(t, casework.Date{}.IsZero())
	assert.Equal(t, "", casework.Date{}.String())
}
