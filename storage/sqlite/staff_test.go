package sqlite

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// deleteStaffUser deletes an account's row, as no method does (see
// storagetest.Harness.DeleteStaffUser).
func deleteStaffUser(tb testing.TB, s casework.Store, id int64) {
	tb.Helper()
	_, err := s.(*DB).write.ExecContext(tb.Context(), "DELETE FROM staff_users WHERE id = ?", id)
	require.NoError(tb, err)
}
