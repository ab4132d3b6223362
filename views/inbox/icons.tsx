import back from 'lucide-static/dist/esm/icons/arrow-left.mjs'
import smile from 'lucide-static/dist/esm/icons/face-grinning.mjs'
import chat from 'lucide-static/dist/esm/icons/message-circle.mjs'
import send from 'lucide-static/dist/esm/icons/send-horizontal.mjs'
import { iconSet } from '../components/icon'

// Lucide's static SVGs (ISC): trusted build-time strings, sized by CSS, hidden from screen readers.
export const IIcon = iconSet({ back, chat, send, smile })
