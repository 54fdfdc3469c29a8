-- 0005_intake_key: a case records the report of a dialogue it came from
-- (casework.Case.IntakeKey: the chat account and a key the dialogue drew for
-- the report), so that the same report submitted again (a platform's retry,
-- or the owner's after a crash between the case's commit and the dialogue's
-- save) is refused instead of becoming a second case.
--
-- NULL for the cases registered before, which had no key, and for those
-- staff type in: only reports of a dialogue conflict with each other.

ALTER TABLE cases ADD COLUMN intake_key TEXT CHECK (intake_key <> '');
-- One case per report: CreateCase finds the case registered first through
-- the violation of this index.
CREATE UNIQUE INDEX cases_intake_key_idx ON cases (intake_key) WHERE intake_key IS NOT NULL;
