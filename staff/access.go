package staff

import (
	"slices"

	"github.com/aftersales/aftersales/casework"
)

// What each role may do. The console and the API ask these, and only these.

// MayManageUsers: admins add and disable accounts and read the audit log.
func (u *User) MayManageUsers() bool { return u.Role == RoleAdmin }

// MayAct: admins, supervisors and agents work cases (triage, dispatch,
// answer); a party's manager reads and comments only.
func (u *User) MayAct() bool { return u.Role != RoleParty }

// MaySeeProject reports whether the project's cases are the user's to see.
func (u *User) MaySeeProject(projectID int64) bool {
	switch u.Role {
	case RoleAdmin:
		return true
	case RoleParty:
		return false
	}
	return len(u.ProjectIDs) == 0 || slices.Contains(u.ProjectIDs, projectID)
}

// MaySeeCase reports whether the user may open c: an admin any case, a
// supervisor or an agent those of their projects, a party's manager those
// dispatched to their party.
func (u *User) MaySeeCase(c *casework.Case) bool {
	if u.Role == RoleParty {
		return u.PartyID != 0 && c.PartyID == u.PartyID
	}
	return u.MaySeeProject(c.ProjectID)
}

// ScopeCases narrows f to the cases the user may see. It reports false when
// f asks for cases the user may not see at all (another project, another
// party): then there is nothing to list.
func (u *User) ScopeCases(f *casework.CaseFilter) bool {
	switch {
	case u.Role == RoleParty:
		if f.PartyID != 0 && f.PartyID != u.PartyID {
			return false
		}
		f.PartyID = u.PartyID
	case u.Role == RoleAdmin || len(u.ProjectIDs) == 0:
	case f.ProjectID != 0:
		return slices.Contains(u.ProjectIDs, f.ProjectID)
	default:
		f.ProjectIDs = u.ProjectIDs
	}
	return true
}
