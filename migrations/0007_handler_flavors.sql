-- Handler flavours (issue 19): a version's `format` also says `lambda` (handler(event, context))
-- or `openfaas` (handle(req)), besides `main` and the 2016 `madhat`. The baseline's inline CHECK
-- has PostgreSQL's default name.
ALTER TABLE function_versions DROP CONSTRAINT IF EXISTS function_versions_format_check;
ALTER TABLE function_versions ADD CONSTRAINT function_versions_format_check
  CHECK (format IN ('main', 'lambda', 'openfaas', 'madhat'));
