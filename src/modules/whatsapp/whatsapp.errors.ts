/** Coded errors of the WhatsApp module (`whatsapp.*`); the message key is what the user reads. */
import { AppError } from '../../platform/http/errors'

export const WHATSAPP_CHANNEL_ERRORS = {
  /** A channel that does not exist in this organization (or another organization's id). */
  notFound: () => new AppError('whatsapp.not_found', 404, 'error.not_found.title'),
  /** The action needs another provider (a pairing code on a Cloud API channel). */
  wrongProvider: () => new AppError('whatsapp.wrong_provider', 409, 'whatsapp.error.wrong_provider'),
  /** Pairing-code request while the socket is not waiting for a pairing. */
  notPairing: () => new AppError('whatsapp.not_pairing', 409, 'whatsapp.error.not_pairing'),
  /** A simulated inbound message without a valid phone number or text. */
  invalidInbound: () => new AppError('whatsapp.invalid_inbound', 422, 'whatsapp.error.invalid_inbound'),
  /** A provider switch is in progress: finish or cancel it first (reconnect, disconnect, a second switch). */
  switchPending: () => new AppError('whatsapp.switch_pending', 409, 'whatsapp.switch.error.pending'),
  /** Cancel / check of a switch that is not in progress (it completed or was cancelled meanwhile). */
  noSwitch: () => new AppError('whatsapp.no_switch', 409, 'whatsapp.switch.error.none'),
} as const
