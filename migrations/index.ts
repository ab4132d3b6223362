/**
 * The ordered list of migrations. Files are imported as text so the compiled binary carries them;
 * a test fails if a .sql file in this folder is missing here. Forward-only: never edit an applied one.
 */
import m0001 from './0001_foundation.sql' with { type: 'text' }
import m0002 from './0002_platform.sql' with { type: 'text' }
import m0003 from './0003_pipeline.sql' with { type: 'text' }
import m0004 from './0004_notifications.sql' with { type: 'text' }
import m0005 from './0005_leads.sql' with { type: 'text' }

export const migrations: ReadonlyArray<{ id: string; sql: string }> = [
  { id: '0001_foundation', sql: m0001 },
  { id: '0002_platform', sql: m0002 },
  { id: '0003_pipeline', sql: m0003 },
  { id: '0004_notifications', sql: m0004 },
  { id: '0005_leads', sql: m0005 },
]
