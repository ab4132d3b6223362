/** WhatsApp channels strings. English is the reference; pt-BR must have exactly the same keys (tsc checks). */
export const whatsappEn = {
  'whatsapp.tab': 'WhatsApp',
  'whatsapp.title': 'WhatsApp channels',
  'whatsapp.subtitle': 'The numbers your team talks to leads from. Each channel uses one provider.',
  'whatsapp.channels': 'Channels',
  'whatsapp.no_channels': 'No channel yet. Create one below — the sandbox needs no credentials.',
  'whatsapp.new': 'New channel',
  'whatsapp.new_hint': 'Choose how this number connects. You can start with the sandbox and switch later.',
  'whatsapp.create': 'Create channel',
  'whatsapp.created': 'Channel "{name}" created.',
  'whatsapp.deleted': 'Channel "{name}" deleted.',
  'whatsapp.composer.waiting.logged_out':
    'WhatsApp Web was logged out on the phone: messages wait in the queue until an admin scans a new QR code.',
  'whatsapp.composer.waiting.forbidden':
    'WhatsApp blocked this number: messages wait in the queue until an admin reconnects the channel or switches its provider.',
  'whatsapp.composer.waiting.error':
    'This channel stopped after repeated connection failures: messages wait in the queue until an admin reconnects it.',
  'whatsapp.deleted_still_linked':
    'Channel "{name}" deleted, but WhatsApp Web could not be logged out: remove the device on the phone (WhatsApp → Linked devices).',
  'whatsapp.back': 'All channels',
  'whatsapp.field.name': 'Name',
  'whatsapp.field.name_hint': 'For your team, e.g. "Sales" or "Support".',
  'whatsapp.field.provider': 'Provider',
  'whatsapp.field.phone': 'Phone number',
  'whatsapp.field.phone_hint': 'The WhatsApp number, with area code.',
  'whatsapp.field.phone_number_id': 'Phone number ID',
  'whatsapp.field.waba_id': 'WhatsApp Business Account ID',
  'whatsapp.field.access_token': 'Access token',
  'whatsapp.field.access_token_hint': 'A permanent system-user token with whatsapp_business_messaging.',
  'whatsapp.field.app_secret': 'App secret',
  'whatsapp.field.app_secret_hint': 'Meta signs every webhook with it (X-Hub-Signature-256).',
  'whatsapp.field.verify_token': 'Verify token',
  'whatsapp.field.verify_token_hint': 'Leave empty to generate one.',
  'whatsapp.provider.cloud-api': 'WhatsApp Cloud API (official)',
  'whatsapp.provider.baileys': 'WhatsApp Web (QR code)',
  'whatsapp.provider.sandbox': 'Sandbox (no credentials)',
  'whatsapp.provider_hint.cloud-api':
    'Meta’s official API: templates, no ban risk. Needs a Meta business app.',
  'whatsapp.provider_hint.baileys':
    'Links like WhatsApp Web: scan a QR code with the phone. Unofficial; sends are paced to avoid bans.',
  'whatsapp.provider_hint.sandbox':
    'A pretend WhatsApp: receipts and replies are simulated. For trying the inbox.',
  'whatsapp.sandbox_badge': 'Sandbox',
  'whatsapp.status.disconnected': 'Disconnected',
  'whatsapp.status.connecting': 'Connecting…',
  'whatsapp.status.qr': 'Waiting for pairing',
  'whatsapp.status.open': 'Connected',
  'whatsapp.status.closed': 'Closed',
  'whatsapp.status.logged_out': 'Logged out',
  'whatsapp.status.forbidden': 'Blocked by WhatsApp',
  'whatsapp.status.error': 'Error',
  'whatsapp.paused': 'Paused',
  'whatsapp.detail.too_many_reconnects':
    'It reconnected too many times in a few minutes and was stopped. Check the phone, then reconnect.',
  'whatsapp.detail.forbidden':
    'WhatsApp refused this number (403). It may be banned: check the phone before reconnecting.',
  'whatsapp.detail.multidevice_mismatch': 'The phone’s WhatsApp must be updated to use linked devices.',
  'whatsapp.detail.replaced': 'Another WhatsApp Web session took over this number.',
  'whatsapp.detail.logged_out': 'The phone unlinked this device. Scan the new QR code to link it again.',
  'whatsapp.detail.retry': 'Connection lost; trying again shortly.',
  'whatsapp.detail.start_failed': 'The session could not start (see the server log). Reconnect to try again.',
  'whatsapp.detail.old_device_linked':
    'The old WhatsApp Web device could not be logged out: remove it on the phone (WhatsApp → Linked devices).',
  'whatsapp.pair.title': 'Link the phone',
  'whatsapp.pair.title_linked': 'Phone linked',
  'whatsapp.pair.steps':
    'On the phone: WhatsApp → Settings → Linked devices → Link a device, then scan this code.',
  'whatsapp.pair.qr_alt': 'QR code to link WhatsApp',
  'whatsapp.pair.rotates': 'The code changes every few seconds; this page follows it.',
  'whatsapp.pair.waiting': 'Waiting for WhatsApp to send a code…',
  'whatsapp.pair.use_code': 'Use a pairing code instead',
  'whatsapp.pair.code_hint':
    'Type the phone number of the WhatsApp account (with country code), then enter the code on the phone under "Link with phone number".',
  'whatsapp.pair.request_code': 'Get a code',
  'whatsapp.pair.code': 'Pairing code',
  'whatsapp.pair.connected': 'Linked to {phone}.',
  'whatsapp.webhook.title': 'Webhook for Meta',
  'whatsapp.webhook.hint':
    'In your Meta app: WhatsApp → Configuration → Webhook. Paste the callback URL and the verify token, then subscribe to the "messages" field.',
  'whatsapp.webhook.url': 'Callback URL',
  'whatsapp.webhook.verify_token': 'Verify token',
  'whatsapp.details': 'Details',
  'whatsapp.provider_label': 'Provider',
  'whatsapp.number': 'Number',
  'whatsapp.not_paired': 'Not linked yet',
  'whatsapp.reconnect': 'Reconnect',
  'whatsapp.disconnect': 'Disconnect',
  'whatsapp.disconnected_flash': 'Channel disconnected. Sending is paused.',
  'whatsapp.reconnected_flash': 'Reconnecting the channel.',
  'whatsapp.delete': 'Delete channel',
  'whatsapp.delete_confirm': 'Delete this channel? WhatsApp Web will be unlinked. This cannot be undone.',
  'whatsapp.danger': 'Danger zone',
  'whatsapp.error.too_long': 'At most {max} characters.',
  'whatsapp.error.provider': 'Choose a provider.',
  'whatsapp.error.numeric_id': 'Only digits (copy it from Meta’s WhatsApp → API setup page).',
  'whatsapp.error.secret': 'This does not look right: no spaces, and check its length.',
  'whatsapp.error.phone': 'Not a valid phone number.',
  'whatsapp.error.unknown_provider': 'Unknown WhatsApp provider "{name}".',
  'whatsapp.error.wrong_provider': 'This channel’s provider cannot do that.',
  'whatsapp.error.not_pairing': 'The channel is not waiting for a pairing. Reconnect it first.',
  'whatsapp.error.invalid_inbound': 'A valid phone number and a message are needed.',
  'whatsapp.error.pairing_failed': 'WhatsApp did not give a code: {reason}',
  'whatsapp.switch.title': 'Switch provider',
  'whatsapp.switch.hint':
    'Move this number to another provider. Conversations, messages and leads stay, and new messages continue the same threads.',
  'whatsapp.switch.open': 'Switch provider…',
  'whatsapp.switch.new_provider': 'New provider',
  'whatsapp.switch.confirm':
    'I understand: sending pauses until the new provider is connected. Messages wait in the queue; none is lost.',
  'whatsapp.switch.submit': 'Switch provider',
  'whatsapp.switch.in_progress': 'Switching provider',
  'whatsapp.switch.in_progress_hint':
    'From {from} to {to}. Sending is paused: messages wait in the queue and go out through the new provider once it is connected.',
  'whatsapp.switch.waiting_pairing': 'Link the phone below to finish the switch.',
  'whatsapp.switch.waiting_check': 'Checking the new credentials with Meta…',
  'whatsapp.switch.check_failed': 'Meta refused the new credentials: {reason}',
  'whatsapp.switch.check_again': 'Check again',
  'whatsapp.switch.cancel': 'Cancel the switch',
  'whatsapp.switch.cancel_confirm': 'Cancel the switch and go back to {from}?',
  'whatsapp.switch.started_flash': 'Switching to {provider}. Link the phone to finish.',
  'whatsapp.switch.done_flash': 'Switched to {provider}. Queued messages are going out.',
  'whatsapp.switch.failed_flash':
    'The new credentials were refused. Fix them at Meta, then check again — or cancel the switch.',
  'whatsapp.switch.cancelled_flash': 'Switch cancelled: back on {provider}.',
  'whatsapp.switch.composer_paused':
    'Sending paused while the new provider connects. Messages you send now wait in the queue and go out once it is connected.',
  'whatsapp.switch.composer_disconnected':
    'This channel is disconnected: messages wait in the queue until an admin reconnects it.',
  'whatsapp.switch.error.same_provider': 'The channel already uses this provider.',
  'whatsapp.switch.error.confirm': 'Confirm that sending pauses during the switch.',
  'whatsapp.switch.error.pending': 'A provider switch is in progress: finish or cancel it first.',
  'whatsapp.switch.error.none': 'No provider switch is in progress on this channel.',
  'audit.a.whatsapp_channel.provider_switch_completed':
    'connected the new provider of a WhatsApp channel ({from} → {to}): the switch is complete',
  'audit.a.whatsapp_channel.provider_switch_cancelled':
    'cancelled switching a WhatsApp channel to {from}: it is back on {to}',
  'audit.a.whatsapp_channel.provider_switch_completed_unlinked':
    'connected the new provider of a WhatsApp channel ({from} → {to}): the switch is complete and the old WhatsApp Web device was logged out of the phone',
  'audit.a.whatsapp_channel.provider_switch_completed_remove':
    'connected the new provider of a WhatsApp channel ({from} → {to}): the switch is complete, but the old WhatsApp Web device could not be logged out and must be removed on the phone',
  'audit.a.whatsapp_channel.created': 'added the WhatsApp channel "{name}" ({provider})',
  'audit.a.whatsapp_channel.deleted': 'deleted the WhatsApp channel "{name}"',
  'audit.a.whatsapp_channel.disconnected': 'disconnected the WhatsApp channel "{name}"',
  'audit.a.whatsapp_channel.reconnected': 'reconnected the WhatsApp channel "{name}"',
  'notifications.k.whatsapp_forbidden':
    'WhatsApp blocked the number of channel "{channel}": its WhatsApp Web session stopped.',
  'notifications.k.whatsapp_multidevice_mismatch':
    'Channel "{channel}" stopped: the phone’s WhatsApp must be updated to use linked devices.',
  'notifications.k.whatsapp_reconnect_loop':
    'Channel "{channel}" stopped after reconnecting too often. Check the phone, then reconnect it.',
  'notifications.k.whatsapp_logged_out':
    'WhatsApp Web was logged out on the phone (channel "{channel}"): scan a new QR code.',
} as const

export const whatsappPtBR: Record<keyof typeof whatsappEn, string> = {
  'whatsapp.tab': 'WhatsApp',
  'whatsapp.title': 'Canais de WhatsApp',
  'whatsapp.subtitle': 'Os números pelos quais sua equipe conversa com os leads. Cada canal usa um provedor.',
  'whatsapp.channels': 'Canais',
  'whatsapp.no_channels': 'Nenhum canal ainda. Crie um abaixo — o sandbox não precisa de credenciais.',
  'whatsapp.new': 'Novo canal',
  'whatsapp.new_hint': 'Escolha como este número se conecta. Você pode começar pelo sandbox e trocar depois.',
  'whatsapp.create': 'Criar canal',
  'whatsapp.created': 'Canal "{name}" criado.',
  'whatsapp.deleted': 'Canal "{name}" excluído.',
  'whatsapp.composer.waiting.logged_out':
    'O WhatsApp Web foi desconectado no celular: as mensagens aguardam na fila até um administrador ler um novo QR code.',
  'whatsapp.composer.waiting.forbidden':
    'O WhatsApp bloqueou este número: as mensagens aguardam na fila até um administrador reconectar o canal ou trocar o provedor.',
  'whatsapp.composer.waiting.error':
    'Este canal parou depois de falhas repetidas de conexão: as mensagens aguardam na fila até um administrador reconectá-lo.',
  'whatsapp.deleted_still_linked':
    'Canal "{name}" excluído, mas não foi possível desconectar o WhatsApp Web: remova o aparelho no celular (WhatsApp → Dispositivos conectados).',
  'whatsapp.back': 'Todos os canais',
  'whatsapp.field.name': 'Nome',
  'whatsapp.field.name_hint': 'Para a equipe, por exemplo "Vendas" ou "Suporte".',
  'whatsapp.field.provider': 'Provedor',
  'whatsapp.field.phone': 'Número de telefone',
  'whatsapp.field.phone_hint': 'O número do WhatsApp, com DDD.',
  'whatsapp.field.phone_number_id': 'ID do número de telefone',
  'whatsapp.field.waba_id': 'ID da conta do WhatsApp Business',
  'whatsapp.field.access_token': 'Token de acesso',
  'whatsapp.field.access_token_hint':
    'Um token permanente de usuário do sistema com whatsapp_business_messaging.',
  'whatsapp.field.app_secret': 'Chave secreta do app',
  'whatsapp.field.app_secret_hint': 'A Meta assina cada webhook com ela (X-Hub-Signature-256).',
  'whatsapp.field.verify_token': 'Token de verificação',
  'whatsapp.field.verify_token_hint': 'Deixe em branco para gerar um.',
  'whatsapp.provider.cloud-api': 'WhatsApp Cloud API (oficial)',
  'whatsapp.provider.baileys': 'WhatsApp Web (QR code)',
  'whatsapp.provider.sandbox': 'Sandbox (sem credenciais)',
  'whatsapp.provider_hint.cloud-api':
    'A API oficial da Meta: modelos de mensagem, sem risco de banimento. Requer um app de negócios na Meta.',
  'whatsapp.provider_hint.baileys':
    'Conecta como o WhatsApp Web: escaneie um QR code com o celular. Não oficial; os envios são espaçados para evitar banimento.',
  'whatsapp.provider_hint.sandbox':
    'Um WhatsApp de mentira: confirmações e respostas são simuladas. Para experimentar a caixa de entrada.',
  'whatsapp.sandbox_badge': 'Sandbox',
  'whatsapp.status.disconnected': 'Desconectado',
  'whatsapp.status.connecting': 'Conectando…',
  'whatsapp.status.qr': 'Aguardando pareamento',
  'whatsapp.status.open': 'Conectado',
  'whatsapp.status.closed': 'Encerrado',
  'whatsapp.status.logged_out': 'Desvinculado',
  'whatsapp.status.forbidden': 'Bloqueado pelo WhatsApp',
  'whatsapp.status.error': 'Erro',
  'whatsapp.paused': 'Pausado',
  'whatsapp.detail.too_many_reconnects':
    'Reconectou vezes demais em poucos minutos e foi parado. Verifique o celular e reconecte.',
  'whatsapp.detail.forbidden':
    'O WhatsApp recusou este número (403). Ele pode ter sido banido: verifique o celular antes de reconectar.',
  'whatsapp.detail.multidevice_mismatch':
    'O WhatsApp do celular precisa ser atualizado para usar aparelhos conectados.',
  'whatsapp.detail.replaced': 'Outra sessão do WhatsApp Web assumiu este número.',
  'whatsapp.detail.logged_out':
    'O celular desconectou este aparelho. Escaneie o novo QR code para conectar de novo.',
  'whatsapp.detail.retry': 'Conexão perdida; tentando de novo em instantes.',
  'whatsapp.detail.start_failed':
    'A sessão não conseguiu iniciar (veja o log do servidor). Reconecte para tentar de novo.',
  'whatsapp.detail.old_device_linked':
    'Não foi possível desconectar o antigo aparelho do WhatsApp Web: remova-o no celular (WhatsApp → Dispositivos conectados).',
  'whatsapp.pair.title': 'Conectar o celular',
  'whatsapp.pair.title_linked': 'Celular conectado',
  'whatsapp.pair.steps':
    'No celular: WhatsApp → Configurações → Aparelhos conectados → Conectar um aparelho e escaneie este código.',
  'whatsapp.pair.qr_alt': 'QR code para conectar o WhatsApp',
  'whatsapp.pair.rotates': 'O código muda a cada poucos segundos; esta página acompanha.',
  'whatsapp.pair.waiting': 'Aguardando o WhatsApp enviar um código…',
  'whatsapp.pair.use_code': 'Usar um código de pareamento',
  'whatsapp.pair.code_hint':
    'Digite o número da conta do WhatsApp (com código do país) e informe o código no celular em "Conectar com número de telefone".',
  'whatsapp.pair.request_code': 'Gerar código',
  'whatsapp.pair.code': 'Código de pareamento',
  'whatsapp.pair.connected': 'Conectado a {phone}.',
  'whatsapp.webhook.title': 'Webhook para a Meta',
  'whatsapp.webhook.hint':
    'No seu app da Meta: WhatsApp → Configuração → Webhook. Cole a URL de retorno e o token de verificação e assine o campo "messages".',
  'whatsapp.webhook.url': 'URL de retorno',
  'whatsapp.webhook.verify_token': 'Token de verificação',
  'whatsapp.details': 'Detalhes',
  'whatsapp.provider_label': 'Provedor',
  'whatsapp.number': 'Número',
  'whatsapp.not_paired': 'Ainda não conectado',
  'whatsapp.reconnect': 'Reconectar',
  'whatsapp.disconnect': 'Desconectar',
  'whatsapp.disconnected_flash': 'Canal desconectado. Os envios estão pausados.',
  'whatsapp.reconnected_flash': 'Reconectando o canal.',
  'whatsapp.delete': 'Excluir canal',
  'whatsapp.delete_confirm': 'Excluir este canal? O WhatsApp Web será desconectado. Não dá para desfazer.',
  'whatsapp.danger': 'Zona de perigo',
  'whatsapp.error.too_long': 'No máximo {max} caracteres.',
  'whatsapp.error.provider': 'Escolha um provedor.',
  'whatsapp.error.numeric_id': 'Somente dígitos (copie da página WhatsApp → Configuração da API da Meta).',
  'whatsapp.error.secret': 'Isto não parece certo: sem espaços, e confira o tamanho.',
  'whatsapp.error.phone': 'Número de telefone inválido.',
  'whatsapp.error.unknown_provider': 'Provedor de WhatsApp desconhecido: "{name}".',
  'whatsapp.error.wrong_provider': 'O provedor deste canal não faz isso.',
  'whatsapp.error.not_pairing': 'O canal não está aguardando pareamento. Reconecte-o primeiro.',
  'whatsapp.error.invalid_inbound': 'São necessários um número de telefone válido e uma mensagem.',
  'whatsapp.error.pairing_failed': 'O WhatsApp não gerou um código: {reason}',
  'whatsapp.switch.title': 'Trocar provedor',
  'whatsapp.switch.hint':
    'Leve este número para outro provedor. Conversas, mensagens e leads continuam, e as novas mensagens seguem nas mesmas conversas.',
  'whatsapp.switch.open': 'Trocar provedor…',
  'whatsapp.switch.new_provider': 'Novo provedor',
  'whatsapp.switch.confirm':
    'Entendi: os envios ficam pausados até o novo provedor se conectar. As mensagens esperam na fila; nenhuma se perde.',
  'whatsapp.switch.submit': 'Trocar provedor',
  'whatsapp.switch.in_progress': 'Trocando de provedor',
  'whatsapp.switch.in_progress_hint':
    'De {from} para {to}. Os envios estão pausados: as mensagens esperam na fila e saem pelo novo provedor assim que ele se conectar.',
  'whatsapp.switch.waiting_pairing': 'Conecte o celular abaixo para concluir a troca.',
  'whatsapp.switch.waiting_check': 'Verificando as novas credenciais com a Meta…',
  'whatsapp.switch.check_failed': 'A Meta recusou as novas credenciais: {reason}',
  'whatsapp.switch.check_again': 'Verificar de novo',
  'whatsapp.switch.cancel': 'Cancelar a troca',
  'whatsapp.switch.cancel_confirm': 'Cancelar a troca e voltar para {from}?',
  'whatsapp.switch.started_flash': 'Trocando para {provider}. Conecte o celular para concluir.',
  'whatsapp.switch.done_flash': 'Trocado para {provider}. As mensagens da fila estão saindo.',
  'whatsapp.switch.failed_flash':
    'As novas credenciais foram recusadas. Corrija-as na Meta e verifique de novo — ou cancele a troca.',
  'whatsapp.switch.cancelled_flash': 'Troca cancelada: de volta ao {provider}.',
  'whatsapp.switch.composer_paused':
    'Envios pausados enquanto o novo provedor se conecta. As mensagens que você enviar agora esperam na fila e saem assim que ele se conectar.',
  'whatsapp.switch.composer_disconnected':
    'Este canal está desconectado: as mensagens esperam na fila até um administrador reconectá-lo.',
  'whatsapp.switch.error.same_provider': 'O canal já usa este provedor.',
  'whatsapp.switch.error.confirm': 'Confirme que os envios ficam pausados durante a troca.',
  'whatsapp.switch.error.pending': 'Há uma troca de provedor em andamento: conclua ou cancele-a primeiro.',
  'whatsapp.switch.error.none': 'Não há troca de provedor em andamento neste canal.',
  'audit.a.whatsapp_channel.provider_switch_completed':
    'conectou o novo provedor de um canal de WhatsApp ({from} → {to}): a troca foi concluída',
  'audit.a.whatsapp_channel.provider_switch_cancelled':
    'cancelou a troca de um canal de WhatsApp para {from}: ele voltou para {to}',
  'audit.a.whatsapp_channel.provider_switch_completed_unlinked':
    'conectou o novo provedor de um canal de WhatsApp ({from} → {to}): a troca foi concluída e o aparelho antigo do WhatsApp Web foi desconectado do celular',
  'audit.a.whatsapp_channel.provider_switch_completed_remove':
    'conectou o novo provedor de um canal de WhatsApp ({from} → {to}): a troca foi concluída, mas o aparelho antigo do WhatsApp Web não pôde ser desconectado e precisa ser removido no celular',
  'audit.a.whatsapp_channel.created': 'adicionou o canal de WhatsApp "{name}" ({provider})',
  'audit.a.whatsapp_channel.deleted': 'excluiu o canal de WhatsApp "{name}"',
  'audit.a.whatsapp_channel.disconnected': 'desconectou o canal de WhatsApp "{name}"',
  'audit.a.whatsapp_channel.reconnected': 'reconectou o canal de WhatsApp "{name}"',
  'notifications.k.whatsapp_forbidden':
    'O WhatsApp bloqueou o número do canal "{channel}": a sessão do WhatsApp Web parou.',
  'notifications.k.whatsapp_multidevice_mismatch':
    'O canal "{channel}" parou: atualize o WhatsApp do celular para usar aparelhos conectados.',
  'notifications.k.whatsapp_reconnect_loop':
    'O canal "{channel}" parou depois de reconectar vezes demais. Confira o celular e reconecte.',
  'notifications.k.whatsapp_logged_out':
    'O WhatsApp Web foi desconectado no celular (canal "{channel}"): escaneie um novo QR code.',
}
