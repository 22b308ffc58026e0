-- wrk script of `make bench`: WooCommerce deliveries with valid signatures.
--
--   wrk ... -s bench/deliver.lua URL -- MANIFEST MODE BASE POOL
--
-- MANIFEST is the Lua file bench/run.py writes: the secret, the payload
-- kinds (topic, template files, line count) and the mix, a list of kind
-- names cycled in order. A template holds @ID@ wherever the resource id
-- goes; an order's line ids are @ID@ followed by three digits.
--
-- MODE "pool": each thread builds POOL distinct signed requests before
-- the run starts (signing costs nothing during it) and sends them in
-- turn; past POOL it starts over, and wc2sf answers "duplicate".
-- MODE "live": every request is built and signed when it is sent, so a
-- run of any length never repeats a body (the memory run).
--
-- BASE keeps the ids of one run apart from every other run's. Every id
-- is distinct, so wc2sf's dedupe never short-circuits a delivery: a
-- customer or product id is BASE + n, an order id (BASE + n) * 1000 +
-- its line count, so that logs can tell a 30-line order from the rest.
--
-- Signing uses HMAC-SHA256 from the libcrypto wrk itself links, through
-- LuaJIT's FFI. done() prints "bench key=value" lines for bench/run.py.

local ffi = require("ffi")

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len,
    const unsigned char *d, size_t n, unsigned char *out,
    unsigned int *out_len);
int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
]]

local function load_crypto()
	local ok = pcall(function() return ffi.C.EVP_sha256 end)
	if ok then
		return ffi.C
	end
	for _, name in ipairs({ "crypto", "libcrypto.so.3" }) do
		local good, lib = pcall(ffi.load, name)
		if good then
			return lib
		end
	end
	error("deliver.lua: no libcrypto to sign with")
end

local crypto = load_crypto()
local digest = ffi.new("unsigned char[32]")
local digest_len = ffi.new("unsigned int[1]")
local b64 = ffi.new("unsigned char[64]")

local function sign(secret, body)
	crypto.HMAC(crypto.EVP_sha256(), secret, #secret, body, #body,
	    digest, digest_len)
	local n = crypto.EVP_EncodeBlock(b64, digest, 32)
	return ffi.string(b64, n)
end

local function read_all(path)
	local f = assert(io.open(path, "rb"))
	local text = f:read("*a")
	f:close()
	return text
end

-- Per-thread state (each wrk thread has its own Lua state).
local manifest, mode, base, pool_size
local kinds = {}
local pool = {}
local next_slot, sent = 0, 0
local seq = 0

-- Globals, so that done() can read them from each thread.
statuses = {}
wrapped = 0

local threads = {}
local thread_count = 0

function setup(thread)
	thread:set("thread_id", thread_count)
	thread_count = thread_count + 1
	table.insert(threads, thread)
end

-- The request for the n-th slot of the mix, with fresh ids.
local function build(n)
	local mix = manifest.mix
	local kind = kinds[mix[(n - 1) % #mix + 1]]
	kind.turn = kind.turn % #kind.bodies + 1
	seq = seq + 1
	local id = base + thread_id * 10000000 + seq
	if kind.lines > 0 then
		id = id * 1000 + kind.lines
	end
	local body = kind.bodies[kind.turn]:gsub("@ID@", tostring(id))
	local headers = {
		["Content-Type"] = "application/json",
		["User-Agent"] = "WooCommerce/10.0.2 Hookshot (bench)",
		["X-WC-Webhook-Source"] = "http://shop.example.test/",
		["X-WC-Webhook-Topic"] = kind.topic,
		["X-WC-Webhook-Resource"] = kind.resource,
		["X-WC-Webhook-Event"] = kind.event,
		["X-WC-Webhook-Signature"] = sign(manifest.secret, body),
		["X-WC-Webhook-ID"] = "1",
		["X-WC-Webhook-Delivery-ID"] = string.format("%08x%08x",
		    thread_id, seq),
	}
	return wrk.format("POST", manifest.path, headers, body)
end

function init(args)
	manifest = dofile(args[1])
	mode = args[2] or "pool"
	base = tonumber(args[3] or "0")
	pool_size = tonumber(args[4] or "1000")
	for _, k in ipairs(manifest.kinds) do
		local bodies = {}
		for _, path in ipairs(k.files) do
			table.insert(bodies, read_all(path))
		end
		kinds[k.name] = {
			topic = k.topic,
			resource = k.topic:match("^([^.]+)"),
			event = k.topic:match("%.(.+)$"),
			lines = k.lines,
			bodies = bodies,
			turn = 0,
		}
	end
	if mode == "pool" then
		for n = 1, pool_size do
			pool[n] = build(n)
		end
	end
	io.stderr:write("bench ready\n")
	io.stderr:flush()
end

function request()
	sent = sent + 1
	if mode == "live" then
		return build(sent)
	end
	next_slot = next_slot + 1
	if next_slot > pool_size then
		next_slot = 1
		wrapped = wrapped + 1
	end
	return pool[next_slot]
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
	local total = {}
	local wraps = 0
	for _, t in ipairs(threads) do
		for code, n in pairs(t:get("statuses") or {}) do
			total[code] = (total[code] or 0) + n
		end
		wraps = wraps + (t:get("wrapped") or 0)
	end
	local codes = {}
	for code, n in pairs(total) do
		table.insert(codes, code .. ":" .. n)
	end
	table.sort(codes)
	local e = summary.errors
	io.write(string.format("bench requests=%d duration_us=%d bytes=%d\n",
	    summary.requests, summary.duration, summary.bytes))
	io.write(string.format("bench errors connect=%d read=%d write=%d "
	    .. "status=%d timeout=%d\n", e.connect, e.read, e.write,
	    e.status, e.timeout))
	io.write(string.format("bench latency_us p50=%d p90=%d p99=%d "
	    .. "p999=%d mean=%.1f max=%d\n", latency:percentile(50),
	    latency:percentile(90), latency:percentile(99),
	    latency:percentile(99.9), latency.mean, latency.max))
	io.write(string.format("bench statuses=%s pool_wraps=%d\n",
	    table.concat(codes, ","), wraps))
end
