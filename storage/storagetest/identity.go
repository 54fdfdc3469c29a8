package storagetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func testChatIdentity(t *testing.T, h Harness) {
	s := h.Open(t)
	ids, ok := s.(casework.IdentityStore)
	if !ok {
		t.Skipf("%T does not implement casework.IdentityStore", s)
	}
	ctx := t.Context()
	f := newFixture(t, s)

	_, err := ids.FindChatIdentity(ctx, "telegram", "1001")
	requireErrNotFound(t, err)

	id := &casework.ChatIdentity{Platform: "telegram", UserID: "1001", Lang: "zh", DisplayName: "张三"}
	require.NoError(t, ids.SaveChatIdentity(ctx, id))
	requireUTC(t, id.CreatedAt, "CreatedAt")
	requireUTC(t, id.UpdatedAt, "UpdatedAt")
	got, err := ids.FindChatIdentity(ctx, "telegram", "1001")
	require.NoError(t, err)
	require.Equal(t, id, got)

	// Replaced whole, keeping CreatedAt.
	created := id.CreatedAt
	upd := &casework.ChatIdentity{Platform: "telegram", UserID: "1001", OwnerID: f.owner.ID, UnitID: f.unit.ID, Lang: "en",
		DisplayName: "Zhang San", Unreachable: true, LastInboundAt: ptr(at(time.Hour + 7)), HandoffAt: ptr(at(2 * time.Hour))}
	require.NoError(t, ids.SaveChatIdentity(ctx, upd))
	require.True(t, upd.CreatedAt.Equal(created), "a replaced identity keeps its CreatedAt")
	requireStoredTime(t, at(time.Hour+7), *upd.LastInboundAt, "LastInboundAt")
	got, err = ids.FindChatIdentity(ctx, "telegram", "1001")
	require.NoError(t, err)
	require.True(t, got.LastInboundAt.Equal(*upd.LastInboundAt))
	require.True(t, got.HandoffAt.Equal(*upd.HandoffAt))
	require.True(t, got.CreatedAt.Equal(upd.CreatedAt))
	require.True(t, got.UpdatedAt.Equal(upd.UpdatedAt))
	got.LastInboundAt, got.HandoffAt, got.CreatedAt, got.UpdatedAt = upd.LastInboundAt, upd.HandoffAt, upd.CreatedAt, upd.UpdatedAt
	require.Equal(t, upd, got)

	// The same user ID on another platform is another account; an engineer's
	// account names a member.
	wx := &casework.ChatIdentity{Platform: "wechat", UserID: "1001", OwnerID: f.owner.ID}
	require.NoError(t, ids.SaveChatIdentity(ctx, wx))
	eng := &casework.ChatIdentity{Platform: "telegram", UserID: "2002", MemberID: f.member.ID}
	require.NoError(t, ids.SaveChatIdentity(ctx, eng))
	got, err = ids.FindChatIdentity(ctx, "telegram", "2002")
	require.NoError(t, err)
	require.Equal(t, f.member.ID, got.MemberID)

	byOwner, err := ids.FindChatIdentitiesByOwner(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Len(t, byOwner, 2)
	require.Equal(t, "telegram", byOwner[0].Platform, "ordered by platform")
	require.Equal(t, "wechat", byOwner[1].Platform)
	byOwner, err = ids.FindChatIdentitiesByOwner(ctx, f.owner2.ID)
	require.NoError(t, err)
	require.Empty(t, byOwner)

	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", OwnerID: 999999}), "owner")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", UnitID: 999999}), "unit")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "3", MemberID: 999999}), "member")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{UserID: "3"}), "platform")
	requireInvalid(t, ids.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram"}), "user_id")
}
