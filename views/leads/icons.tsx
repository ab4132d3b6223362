import arrowDown from 'lucide-static/dist/esm/icons/arrow-down.mjs'
import arrowUp from 'lucide-static/dist/esm/icons/arrow-up.mjs'
import arrowUpDown from 'lucide-static/dist/esm/icons/arrow-up-down.mjs'
import chevronDown from 'lucide-static/dist/esm/icons/chevron-down.mjs'
import chevronUp from 'lucide-static/dist/esm/icons/chevron-up.mjs'
import columns from 'lucide-static/dist/esm/icons/columns-3.mjs'
import copy from 'lucide-static/dist/esm/icons/copy.mjs'
import download from 'lucide-static/dist/esm/icons/download.mjs'
import fileDown from 'lucide-static/dist/esm/icons/file-down.mjs'
import shieldAlert from 'lucide-static/dist/esm/icons/shield-alert.mjs'
import upload from 'lucide-static/dist/esm/icons/upload.mjs'
import usersRound from 'lucide-static/dist/esm/icons/users-round.mjs'
import { iconSet } from '../components/icon'

// Lucide's static SVGs (ISC): trusted build-time strings, sized by CSS, hidden from screen readers.
export const LIcon = iconSet({
  arrowDown,
  arrowUp,
  arrowUpDown,
  chevronDown,
  chevronUp,
  columns,
  copy,
  download,
  fileDown,
  shieldAlert,
  upload,
  usersRound,
})
