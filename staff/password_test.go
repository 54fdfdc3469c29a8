package staff

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	hash, err := HashPassword("海景苑-客服-2026")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"), hash)
	ok, err := CheckPassword(hash, "海景苑-客服-2026")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = CheckPassword(hash, "海景苑-客服-2027")
	require.NoError(t, err)
	assert.False(t, ok)

	again, err := HashPassword("海景苑-客服-2026")
	require.NoError(t, err)
	assert.NotEqual(t, hash, again, "a new salt each time")

	_, err = HashPassword("short")
	assert.ErrorContains(t, err, "at least 10")
	_, err = HashPassword(strings.Repeat("x", MaxPasswordLen+1))
	assert.Error(t, err)
	ok, _ = CheckPassword(hash, strings.Repeat("x", 10<<20))
	assert.False(t, ok, "a huge password is refused before hashing")

	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaA"} {
		_, err := CheckPassword(bad, "whatever-password")
		assert.ErrorIs(t, err, ErrBadHash, bad)
	}
}
