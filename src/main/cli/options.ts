import type { parseArgs } from 'node:util';
import { defaultDataDir } from '../paths';

/** What `atelier --help` prints: every command and option. */
export const USAGE = `Usage: atelier <command> [options]

Commands:
  info                                 versions, data folders, execution providers
  engine info                          providers available, the chain Atelier will try, and why
  library list [--kind K] [--limit N]  recent generations
  library search QUERY [--meaning] [--kind K]  full-text search over prompts, texts and tags; --meaning
                                       adds search by meaning (pictures, texts and music that match the idea)
  library similar ID                   "more like this": the items nearest to one by meaning
  library index [--model ID|DIR] [--kind image|text|music]  index the library for search by meaning
                                       (a CLIP model for pictures, a sentence embedder for texts);
                                       resumes where an interrupted index stopped
  library show ID                      one generation with every parameter
  library export ID... --to DIR [--zip] [--unsigned]  export with provenance (PNG chunks + XMP, WAV INFO, Markdown front matter, C2PA Content Credentials unless --unsigned) and a manifest
  library credentials FILE...  read and validate the C2PA Content Credentials of pictures or WAV files
  library import DIR                   import AUTOMATIC1111, ComfyUI, InvokeAI and Atelier PNGs with their parameters
  library backup FILE                  the whole library (database + files) as one archive
  library restore FILE                 replace the library with a backup (the old database is kept in backups/)
  library undo-restore                 put back the library as it was before the last restore
  library rebuild                      re-create the database from the library's own files and records
                                       (the database in the way is kept in backups/; nothing is deleted)
  library start-empty                  set a damaged database aside (in backups/) and start an empty library
  library quarantine [rebuild|delete]  files the database does not name: how many, bring their
                                       generations back, or delete them for good
  models list                          installed models
  models inspect DIR|FILE.gguf         which kind of model a folder (or GGUF file) holds and what is missing
  models import DIR|FILE.gguf [--name NAME]
                                       register a local model folder or GGUF file (files stay where they are)
  models add-remote --base-url URL --remote-model NAME [--name N] [--allow-http] [--api-key-env VAR]
                                       a text model on an OpenAI-compatible server (vLLM, llama.cpp, Ollama,
                                       LM Studio); the API key is read from the environment variable VAR
  models discover [--import]           GGUF models LM Studio and Ollama already have here; --import registers
                                       them in place (nothing is copied)
  models pull REPO[@REV] [--files GLOB,GLOB] [--dtype fp32|fp16|q8|q4] [--quant Q4_K_M]
                                       download from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN), resumable
  models rm ID                         remove a model (says which generations used it)
  models verify ID                     check every file against the digests recorded at download
  generate text  --model DIR|ID|FILE.gguf --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--top-k K]
                 [--min-p P] [--repetition-penalty R] [--seed S]
  generate image --model DIR|ID --prompt TEXT [--negative TEXT] [--steps N] [--guidance G] [--scheduler S]
                 [--seed S] [--width W --height H] [--init FILE --strength F] [--batch N] --out FILE.png
                 [--mask FILE (white = repaint) [--mask-blur N] [--masked-only]] [--outpaint LEFT,TOP,RIGHT,BOTTOM]
  generate music --model DIR|ID --prompt TEXT [--seconds S] [--guidance G] [--temperature T] [--top-k K] [--seed N] --out FILE.wav
  upscale IMAGE --model ID|DIR [--scale N] [--tile N] [--overlap N] --out FILE.png
                                       super-resolution (bundled: esrgan-slim|medium|thick-x2|x4); with
                                       --library the result is a generation whose parent is IMAGE
  serve [--port N]                     browser mode on 127.0.0.1; prints the URL to open
        [--openai [--openai-port N] [--openai-key KEY]]
                                       also serve the installed text models on a loopback OpenAI-compatible
                                       endpoint (/v1/models, /v1/completions, /v1/chat/completions)

Options for every command:
  --library DIR   the data folder (database, files, installed models); default ${defaultDataDir()}
  --json          machine-readable output on stdout
  --quiet, -q     no progress on stderr (results still go to stdout)
`;

/** Options that take a value (`--steps 20`). */
function valued<const Name extends string>(...names: Name[]): Record<Name, { type: 'string' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as Record<Name, { type: 'string' }>;
}

/** Options that are on when named (`--zip`), off otherwise. */
function switches<const Name extends string>(...names: Name[]): Record<Name, { type: 'boolean'; default: false }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'boolean', default: false }])) as Record<Name, { type: 'boolean'; default: false }>;
}

/** Every option of every command: parseArgs refuses any other. */
export const OPTIONS = {
  ...valued('library', 'kind', 'limit', 'to', 'files', 'dtype', 'quant', 'name', 'model', 'prompt', 'negative', 'steps', 'guidance', 'scheduler', 'seed', 'width', 'height'),
  ...valued('init', 'strength', 'mask', 'mask-blur', 'outpaint', 'batch', 'out', 'seconds', 'temperature', 'top-p', 'top-k', 'min-p', 'repetition-penalty', 'max-new-tokens'),
  ...valued('port', 'host', 'scale', 'tile', 'overlap', 'base-url', 'remote-model', 'api-key-env', 'openai-port', 'openai-key'),
  ...switches('json', 'zip', 'unsigned', 'meaning', 'masked-only', 'openai', 'import', 'allow-http'),
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];
