-- CSV import (issue #5): the encoding and separator can be overridden on the mapping step, so the
-- import keeps what detection found at upload next to what is used; and a report row can now be a
-- created lead with a warning (an Owner column value that matched no member).
alter table lead_imports
  add column detected_encoding text check (detected_encoding in ('utf-8', 'windows-1252')),
  add column detected_delimiter text check (detected_delimiter in (',', ';', E'\t'));
update lead_imports set detected_encoding = encoding, detected_delimiter = delimiter;

alter table lead_import_rows drop constraint lead_import_rows_outcome_check;
alter table lead_import_rows
  add constraint lead_import_rows_outcome_check
  check (outcome in ('created', 'merged', 'flagged', 'rejected'));
