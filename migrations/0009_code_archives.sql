-- Code as a directory or a zip (issue 19): such a version keeps its zip archive (published to
-- Swarm as the config its sha256 names) and its entry module's path inside it; `code` stays the
-- entry module's text. A single-file version has neither. `apt`: the Debian packages installed
-- into its dependency image (apt.txt, --apt), one a line, as `requirements` keeps pip's.
ALTER TABLE function_versions ADD COLUMN archive bytea;
ALTER TABLE function_versions ADD COLUMN module text;
ALTER TABLE function_versions ADD COLUMN apt text;
ALTER TABLE function_versions ADD CONSTRAINT function_versions_archive_module_check CHECK ((archive IS NULL) = (module IS NULL));
