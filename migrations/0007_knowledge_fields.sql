-- Knowledge search by fields: a chunk's full text holds its document's title, its heading
-- path, the identifiers it names and its text, each under a weight of its own, so search can
-- score them apart (BM25 with boosted fields, engine/knowledge/fulltext.py).

-- The words inside identifiers: CamelCase (KubeJobFailed -> Kube Job Failed, OOMKilled ->
-- OOM Killed), snake_case and dotted names (pm.max_children -> pm max children). The
-- english parser keeps `KubeJobFailed` and `kube.job.failed` as one token each, so a page
-- whose meaning is in such a name is never found by the words of it. Plain words, numbers,
-- versions and addresses give nothing. Search splits the query with the same function.
CREATE FUNCTION knowledge_identifier_words(doc text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
SELECT coalesce(string_agg(
           regexp_replace(regexp_replace(regexp_replace(m[1],
               '([[:lower:][:digit:]])([[:upper:]])', '\1 \2', 'g'),
               '([[:upper:]])([[:upper:]][[:lower:]])', '\1 \2', 'g'),
               '[._]+', ' ', 'g'),
           ' '), '')
FROM regexp_matches(doc, '[[:alnum:]]+(?:[._][[:alnum:]]+)*', 'g') AS m
WHERE length(m[1]) > 3
  AND m[1] ~ '[[:lower:]][[:upper:]]|[[:upper:]]{2}[[:lower:]]|[[:alpha:]][._][[:alnum:]]|[[:alnum:]][._][[:alpha:]]'
$fn$;

-- The document's title on each chunk, as tier and channel are: a generated column reads only
-- its own row. The store writes it with the chunks and when the title changes.
ALTER TABLE knowledge_chunks DROP COLUMN tsv;
ALTER TABLE knowledge_chunks ADD COLUMN title text NOT NULL DEFAULT '';
UPDATE knowledge_chunks c SET title = d.title FROM knowledge_documents d WHERE d.id = c.document_id;

-- Weights name the fields: A title, B heading path, C identifier words, D text.
ALTER TABLE knowledge_chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title || ' ' || knowledge_identifier_words(title)), 'A')
    || setweight(to_tsvector('english', heading || ' ' || knowledge_identifier_words(heading)), 'B')
    || setweight(to_tsvector('english', knowledge_identifier_words(text)), 'C')
    || setweight(to_tsvector('english', text), 'D')
) STORED;
CREATE INDEX knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);
