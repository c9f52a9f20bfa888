#!/usr/bin/env node
// Smoke suite for a built or installed binary (run by .ci/run in an empty project that installed
// the tarballs, and under qemu for linux-arm64): open a folder with a password, SQL, a
// transaction, KV with TTL, a DuckDB report, a wrong password, close. Prints
// `N passed, N failed` and exits non-zero on any failure.
//
//   node scripts/smoke.mjs            (resolves `aico-data` from the current directory)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const { openDataLayer, isAicoError, AicoDataError } = await import('aico-data')
const dir = mkdtempSync(join(tmpdir(), 'aico-smoke-'))
const password = 'smoke password'
const kdf = { memoryKib: 65536, iterations: 3, parallelism: 1 }
let passed = 0
let failed = 0
async function check(name, fn) {
  const t0 = Date.now()
  try {
    await fn()
    passed++
    console.log(`ok   ${name} (${Date.now() - t0} ms)`)
  } catch (e) {
    failed++
    console.log(`FAIL ${name}: ${e?.code ? `[${e.code}] ` : ''}${e?.stack ?? e}`)
  }
}
const assert = (cond, what) => {
  if (!cond) throw new Error(`assertion failed: ${what}`)
}

try {
  let data
  await check('open a new folder with a password', async () => {
    data = await openDataLayer({ dir, password, kdf, vectors: false })
  })
  if (data) {
    await check('SQL: create, insert, query', async () => {
      await data.sql.exec('CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)')
      const { lastInsertRowid } = await data.sql.execute('INSERT INTO notes(body) VALUES (?)', ['hello'])
      const row = data.sql.queryOneSync('SELECT body FROM notes WHERE id = ?', [lastInsertRowid])
      assert(row?.body === 'hello', `row ${JSON.stringify(row)}`)
    })
    await check('transaction: commit and rollback', async () => {
      await data.sql.transaction(async (tx) => {
        await tx.execute('INSERT INTO notes(body) VALUES (?)', ['committed'])
      })
      await data.sql
        .transaction(async (tx) => {
          await tx.execute('INSERT INTO notes(body) VALUES (?)', ['rolled back'])
          throw new Error('roll back')
        })
        .catch(() => undefined)
      const bodies = (await data.sql.query('SELECT body FROM notes ORDER BY id')).map((r) => r.body)
      assert(JSON.stringify(bodies) === '["hello","committed"]', `bodies ${JSON.stringify(bodies)}`)
    })
    await check('KV: put/get, TTL expiry', async () => {
      data.kv.putJson('config', 'theme', { dark: true })
      assert(data.kv.getJson('config', 'theme')?.dark === true, 'config value')
      data.kv.putJson('session', 'short', { v: 1 }, { ttlMs: 1 })
      // Bounded poll of the condition: the value must disappear once its 1 ms lifetime is over.
      const until = Date.now() + 10_000
      while (data.kv.getJson('session', 'short') !== undefined) {
        assert(Date.now() < until, 'expired value still returned after 10 s')
        await new Promise((r) => setImmediate(r))
      }
    })
    await check('DuckDB: analytics report', async () => {
      const { user } = await data.services.onboarding.onboardNewUser({ name: 'Ada' })
      assert(user?.id, 'user created')
      await data.memories.remember({ userId: user.id, type: 'preference', content: 'Ada loves green tea' })
      await data.analytics.sync()
      const rows = await data.analytics.query('SELECT count(*) AS n FROM memories')
      const inSql = (await data.sql.queryOne('SELECT count(*) AS n FROM memories')).n
      assert(inSql >= 1 && Number(rows[0]?.n) === inSql, `memories: DuckDB ${JSON.stringify(rows)}, libSQL ${inSql}`)
      const daily = await data.analytics.reports.dailyMetrics({ days: 30 })
      assert(Array.isArray(daily), 'dailyMetrics returns rows')
    })
    await check('close', async () => {
      await data.close()
      let closed = false
      try {
        data.sql.queryOneSync('SELECT 1')
      } catch (e) {
        closed = isAicoError(e, 'CLOSED')
      }
      assert(closed, 'CLOSED after close')
    })
    await check('wrong password: WRONG_PASSWORD, folder intact', async () => {
      let code
      try {
        await openDataLayer({ dir, password: 'not the password', vectors: false })
      } catch (e) {
        code = e instanceof AicoDataError ? e.code : String(e)
      }
      assert(code === 'WRONG_PASSWORD', `got ${code}`)
      const again = await openDataLayer({ dir, password, vectors: false })
      const n = (await again.sql.queryOne('SELECT count(*) AS n FROM notes')).n
      await again.close()
      assert(n === 2, `notes after reopen: ${n}`)
    })
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log(`smoke: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
