package storagetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// testStaffViews: a person's saved case lists — saved, renamed by saving
// the same name, listed by name, deleted only by their owner.
func testStaffViews(t *testing.T, h Harness) {
	s, ss := openAs[staff.Store](t, h)
	vs, ok := s.(staff.ViewStore)
	if !ok {
		t.Skip("the store keeps no saved views")
	}
	ctx := t.Context()
	wang := createUser(t, ss, "wang", staff.RoleSupervisor, nil)
	li := createUser(t, ss, "li", staff.RoleAgent, nil)

	urgent := &staff.View{UserID: wang.ID, Name: "紧急超时", Query: "urgency=urgent&overdue=true"}
	require.NoError(t, vs.SaveView(ctx, urgent))
	require.NotZero(t, urgent.ID)
	requireUTC(t, urgent.CreatedAt, "CreatedAt")
	require.NoError(t, vs.SaveView(ctx, &staff.View{UserID: wang.ID, Name: "待分诊", Query: "state=registered"}))
	again := &staff.View{UserID: wang.ID, Name: "紧急超时", Query: "urgency=urgent"}
	require.NoError(t, vs.SaveView(ctx, again), "the same name replaces the query")
	require.Equal(t, urgent.ID, again.ID)
	require.NoError(t, vs.SaveView(ctx, &staff.View{UserID: li.ID, Name: "紧急超时", Query: "q=渗水"}), "another person's views are theirs")

	views, err := vs.ListViews(ctx, wang.ID)
	require.NoError(t, err)
	require.Len(t, views, 2)
	byName := map[string]string{}
	for _, v := range views {
		byName[v.Name] = v.Query
		require.Equal(t, wang.ID, v.UserID)
	}
	require.Equal(t, map[string]string{"紧急超时": "urgency=urgent", "待分诊": "state=registered"}, byName)

	requireErrNotFound(t, vs.DeleteView(ctx, li.ID, urgent.ID))
	require.NoError(t, vs.DeleteView(ctx, wang.ID, urgent.ID))
	requireErrNotFound(t, vs.DeleteView(ctx, wang.ID, urgent.ID))
	views, err = vs.ListViews(ctx, wang.ID)
	require.NoError(t, err)
	require.Len(t, views, 1)

	var ve *casework.ValidationError
	require.ErrorAs(t, vs.SaveView(ctx, &staff.View{UserID: wang.ID, Name: ""}), &ve)
	require.ErrorAs(t, vs.SaveView(ctx, &staff.View{UserID: wang.ID, Name: "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一"}), &ve)
}
