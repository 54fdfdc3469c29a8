package storagetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// testFindOwnersByName: staff find an owner by the name said on the phone —
// exactly that name, spaces around it ignored, ordered by ID, bounded.
func testFindOwnersByName(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()

	zhang := &casework.Owner{Name: "张三", Phone: "13812345678"}
	require.NoError(t, s.CreateOwner(ctx, zhang))
	wife := &casework.Owner{Name: "张三的妻子", Phone: "13812345678"}
	require.NoError(t, s.CreateOwner(ctx, wife))
	namesake := &casework.Owner{Name: "张三", Phone: "13900000001"}
	require.NoError(t, s.CreateOwner(ctx, namesake))
	jane := &casework.Owner{Name: "Jane Smith", Phone: "+447700900123"}
	require.NoError(t, s.CreateOwner(ctx, jane))

	for _, q := range []string{"张三", " 张三 "} {
		owners, err := s.FindOwnersByName(ctx, q)
		require.NoError(t, err, q)
		require.Equal(t, []*casework.Owner{zhang, namesake}, owners, "%q: that name only, ordered by ID", q)
	}
	owners, err := s.FindOwnersByName(ctx, "Jane Smith")
	require.NoError(t, err)
	require.Equal(t, []*casework.Owner{jane}, owners)
	for _, q := range []string{"张", "jane smith", "", "李四"} {
		owners, err := s.FindOwnersByName(ctx, q)
		require.NoError(t, err, q)
		require.Empty(t, owners, "%q names nobody exactly", q)
	}

	for i := range casework.MaxOwnersByName + 5 {
		require.NoError(t, s.CreateOwner(ctx, &casework.Owner{Name: "王伟", Phone: fmt.Sprintf("139%08d", i)}))
	}
	owners, err = s.FindOwnersByName(ctx, "王伟")
	require.NoError(t, err)
	require.Len(t, owners, casework.MaxOwnersByName, "a common name is bounded")
}
