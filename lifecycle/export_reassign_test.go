package lifecycle

import (
	"context"

	"github.com/aftersales/aftersales/casework"
)

// WithdrawOrder exposes withdrawOrder to the tests of package lifecycle_test.
func (s *Service) WithdrawOrder(ctx context.Context, c *casework.Case, memberID int64, why string) ([]casework.OutboxMessage, error) {
	return s.withdrawOrder(ctx, c, memberID, why)
}
