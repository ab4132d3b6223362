/**
 * The ordered list of migrations. Files are imported as text so the compiled binary carries them;
 * a test fails if a .sql file in this folder is missing here. Forward-only: never edit an applied one.
 */
import m0001 from './0001_foundation.sql' with { type: 'text' }
import m0002 from './0002_platform.sql' with { type: 'text' }
import m0003 from './0003_pipeline.sql' with { type: 'text' }
import m0004 from './0004_notifications.sql' with { type: 'text' }
import m0005 from './0005_leads.sql' with { type: 'text' }
import m0006 from './0006_lead_dedup.sql' with { type: 'text' }
import m0007 from './0007_lead_imports.sql' with { type: 'text' }
import m0008 from './0008_lead_capture.sql' with { type: 'text' }
import m0009 from './0009_lead_scoring.sql' with { type: 'text' }
import m0010 from './0010_lead_list.sql' with { type: 'text' }
import m0011 from './0011_whatsapp.sql' with { type: 'text' }
import m0012 from './0012_inbox.sql' with { type: 'text' }
import m0013 from './0013_inbox_media.sql' with { type: 'text' }
import m0014 from './0014_whatsapp_switch_templates.sql' with { type: 'text' }
import m0015 from './0015_lead_name_keys.sql' with { type: 'text' }
import m0016 from './0016_session_lookup.sql' with { type: 'text' }
import m0017 from './0017_baileys_socket_lease.sql' with { type: 'text' }
import m0018 from './0018_import_format_owner.sql' with { type: 'text' }
import m0019 from './0019_lead_search_terms.sql' with { type: 'text' }

export const migrations: ReadonlyArray<{ id: string; sql: string }> = [
  { id: '0001_foundation', sql: m0001 },
  { id: '0002_platform', sql: m0002 },
  { id: '0003_pipeline', sql: m0003 },
  { id: '0004_notifications', sql: m0004 },
  { id: '0005_leads', sql: m0005 },
  { id: '0006_lead_dedup', sql: m0006 },
  { id: '0007_lead_imports', sql: m0007 },
  { id: '0008_lead_capture', sql: m0008 },
  { id: '0009_lead_scoring', sql: m0009 },
  { id: '0010_lead_list', sql: m0010 },
  { id: '0011_whatsapp', sql: m0011 },
  { id: '0012_inbox', sql: m0012 },
  { id: '0013_inbox_media', sql: m0013 },
  { id: '0014_whatsapp_switch_templates', sql: m0014 },
  { id: '0015_lead_name_keys', sql: m0015 },
  { id: '0016_session_lookup', sql: m0016 },
  { id: '0017_baileys_socket_lease', sql: m0017 },
  { id: '0018_import_format_owner', sql: m0018 },
  { id: '0019_lead_search_terms', sql: m0019 },
]
