'use strict'
// Node's session middleware on csession's workload, in-process: each
// middleware is called directly with request and response objects that
// carry just what it reads and writes, so no HTTP stack is timed.
//
//   cookie-session                  (signed cookie, Keygrip HMAC-SHA1)
//   express-session + connect-redis (session id cookie, state in Redis), one
//                                   request at a time, and 8 in flight on
//                                   the event loop (..._8c, aggregate)
//
// A request: the middleware parses the Cookie: header and verifies it (and
// loads the state from Redis), the handler reads user_id and counter and
// writes counter + 1, the response's headers are written (Set-Cookie
// formatted; the cookie re-signed) and, for express-session, end() saves
// the state to Redis before the response completes.
//
// Output: one JSON object per line per figure, like csession-bench --json.
// Usage: node node_peers.js [--quick] [--redis redis://host:port/db]
//                           [--only NAME]
//   --only NAME  only the figures whose name contains NAME (as csession-bench)

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const redisAt = args.indexOf('--redis')
const redisUrl = redisAt >= 0 ? args[redisAt + 1] : null
const onlyAt = args.indexOf('--only')
const only = onlyAt >= 0 ? args[onlyAt + 1] : null

function wanted (name) {
  return !only || name.includes(only)
}

const REPS = quick ? 5 : 7
const MIN_REP_NS = quick ? 100e6 : 250e6

const SESSION = {
  user_id: 'u-4f1c2a9e-7b3d-4c1e-9a57-d2a0',
  counter: 7,
  roles: ['reader', 'editor'],
  csrf: 'b1946ac92492d2347c6235b4d2611184'
}
const OTHER_BEFORE = '_ga=GA1.2.1234567890.1700000000; '
const OTHER_AFTER = '; theme=dark'

let sink = 0

function median (xs) {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function report (name, ns) {
  console.log(JSON.stringify({ name, ns_per_op: +ns.toFixed(1), ops_per_sec: Math.round(1e9 / ns), baseline: null, ratio: null }))
}

// Times a synchronous request function like csession-bench does.
function measureSync (name, fn) {
  let iters = 8
  for (;;) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < iters; i++) fn()
    const t = Number(process.hrtime.bigint() - t0)
    if (t >= MIN_REP_NS / 8) {
      iters = Math.ceil(MIN_REP_NS * 1.1 / (t / iters))
      break
    }
    iters *= 4
  }
  const samples = []
  for (let r = 0; r < REPS; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < iters; i++) fn()
    samples.push(Number(process.hrtime.bigint() - t0) / iters)
  }
  report(name, median(samples))
}

// The same for a request that completes asynchronously (one at a time).
async function measureAsync (name, fn) {
  let iters = 8
  for (;;) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < iters; i++) await fn()
    const t = Number(process.hrtime.bigint() - t0)
    if (t >= MIN_REP_NS / 8) {
      iters = Math.ceil(MIN_REP_NS * 1.1 / (t / iters))
      break
    }
    iters *= 4
  }
  const samples = []
  for (let r = 0; r < REPS; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < iters; i++) await fn()
    samples.push(Number(process.hrtime.bigint() - t0) / iters)
  }
  report(name, median(samples))
}

// Aggregate time per request with `inFlight` requests under way at once, as
// a Node server has them: request(i) runs the i-th in-flight slot's next
// request; each slot starts its next one as soon as its last one is done.
async function measureInFlight (name, inFlight, fn) {
  async function run (iters) {
    const t0 = process.hrtime.bigint()
    const slots = []
    for (let k = 0; k < inFlight; k++) {
      slots.push((async () => { for (let i = 0; i < iters; i++) await fn(k) })())
    }
    await Promise.all(slots)
    return Number(process.hrtime.bigint() - t0) / (iters * inFlight)
  }
  let iters = 8
  for (;;) {
    const per = await run(iters)
    if (per * iters * inFlight >= MIN_REP_NS / 8) {
      iters = Math.ceil(MIN_REP_NS * 1.1 / (per * inFlight))
      break
    }
    iters *= 4
  }
  const samples = []
  for (let r = 0; r < REPS; r++) samples.push(await run(iters))
  report(name, median(samples))
}

// What the middlewares touch of http.ServerResponse.
function fakeResponse (onEnd) {
  const headers = Object.create(null)
  return {
    _header: null,
    statusCode: 200,
    getHeader (n) { return headers[n.toLowerCase()] },
    setHeader (n, v) { headers[n.toLowerCase()] = v },
    removeHeader (n) { delete headers[n.toLowerCase()] },
    writeHead (status) { this.statusCode = status; this._header = 'HTTP/1.1 ' + status },
    _implicitHeader () { this.writeHead(this.statusCode) },
    write () { return true },
    end () { if (onEnd) onEnd(); return true },
    headers
  }
}

function fakeRequest (cookie) {
  return {
    method: 'GET',
    url: '/',
    originalUrl: '/',
    headers: { cookie },
    connection: { encrypted: false },
    socket: { encrypted: false }
  }
}

// Turns Set-Cookie values into the Cookie: header a browser sends back.
function browserHeader (setCookie) {
  const list = Array.isArray(setCookie) ? setCookie : [setCookie]
  const pairs = list.map((c) => c.split(';')[0])
  return OTHER_BEFORE + pairs.join('; ') + OTHER_AFTER
}

function benchCookieSession () {
  if (!wanted('node_cookie_session_full') && !wanted('node_cookie_session_read')) return
  const cookieSession = require('cookie-session')
  const mw = cookieSession({ name: 'id', keys: ['k1-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e'], httpOnly: true, sameSite: 'lax' })

  // Login: the first request sets the session.
  let res = fakeResponse()
  let req = fakeRequest(OTHER_BEFORE.slice(0, -2))
  mw(req, res, () => { req.session = Object.assign({}, SESSION) })
  res.writeHead(200)
  const header = browserHeader(res.headers['set-cookie'])

  function request (write) {
    const q = fakeRequest(header)
    const r = fakeResponse()
    mw(q, r, () => {
      const s = q.session
      if (typeof s.user_id !== 'string') throw new Error('session did not load')
      sink += s.user_id.length + s.counter
      if (write) s.counter = s.counter + 1
    })
    r.writeHead(200)
    const set = r.headers['set-cookie']
    if (write ? !set : set) throw new Error('unexpected Set-Cookie state')
  }
  if (wanted('node_cookie_session_full')) measureSync('node_cookie_session_full', () => request(true))
  if (wanted('node_cookie_session_read')) measureSync('node_cookie_session_read', () => request(false))
}

const IN_FLIGHT = 8 // as csession-bench's redis_full_8t has threads

async function benchExpressSession () {
  if (!wanted('node_express_session_redis_full')) return
  if (!redisUrl) {
    process.stderr.write('skipped express-session + connect-redis: no --redis URL\n')
    return
  }
  const session = require('express-session')
  const { RedisStore } = require('connect-redis')
  const { createClient } = require('redis')
  const client = createClient({ url: redisUrl })
  await client.connect()
  const store = new RedisStore({ client, prefix: 'csession-bench-peer:' })
  const mw = session({
    store,
    secret: 'k1-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false }
  })

  function request (cookie, handler) {
    return new Promise((resolve, reject) => {
      const res = fakeResponse(() => resolve(res))
      const req = fakeRequest(cookie)
      mw(req, res, (err) => {
        if (err) return reject(err)
        try { handler(req.session) } catch (e) { return reject(e) }
        res.end()
      })
    })
  }

  // One user (session) per request in flight.
  const headers = []
  for (let k = 0; k < IN_FLIGHT; k++) {
    const first = await request(OTHER_BEFORE.slice(0, -2), (s) => Object.assign(s, SESSION))
    headers.push(browserHeader(first.headers['set-cookie']))
  }
  // express-session re-sends the cookie only when it has an expiry (or
  // with rolling: true); this browser-session cookie stays as it is.
  const full = (header) => request(header, (s) => {
    if (typeof s.user_id !== 'string') throw new Error('session did not load')
    sink += s.user_id.length + s.counter
    s.counter = s.counter + 1
  })
  await measureAsync('node_express_session_redis_full', () => full(headers[0]))
  if (wanted('node_express_session_redis_full_8c')) {
    await measureInFlight('node_express_session_redis_full_8c', IN_FLIGHT, (k) => full(headers[k]))
  }
  for (const header of headers) await request(header, (s) => s.destroy(() => {}))
  await client.quit()
}

async function main () {
  benchCookieSession()
  await benchExpressSession()
  if (sink === 42) process.stderr.write('')
}

main().catch((e) => { console.error(e); process.exit(1) })
