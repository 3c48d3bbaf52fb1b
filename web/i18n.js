// Interface strings (English and French) and language selection.

const STRINGS = {
  en: {
    'app.tagline': 'Answers from your company’s documents',
    'skip': 'Skip to answer',
    'banner.single': 'Single-user mode — no sign-in; everyone using this server sees the same documents',
    'search.label': 'Ask a question or search',
    'search.placeholder': 'Ask a question or search the documents…',
    'search.submit': 'Ask',
    'search.stop': 'Stop',
    'filters': 'Filters',
    'filters.active': 'Filters ({n})',
    'filters.sources': 'Sources',
    'filters.allSources': 'All sources',
    'filters.updatedAfter': 'Updated after',
    'filters.language': 'Language',
    'filters.anyLanguage': 'Any language',
    'filters.clear': 'Clear filters',
    'lang.fr': 'French',
    'lang.en': 'English',
    'chat.new': 'New chat',
    'chat.history': 'Chats',
    'chat.historyTitle': 'Your chats',
    'chat.noHistory': 'No saved chats yet.',
    'chat.delete': 'Delete chat “{title}”',
    'chat.open': 'Open chat',
    'chat.current': 'current',
    'chat.turns': '{n} questions',
    'chat.turn1': '1 question',
    'results.title': 'Results',
    'results.empty': 'No matching documents.',
    'results.intro': 'Search results appear here.',
    'results.count': '{n} results · {ms} ms',
    'results.count1': '1 result · {ms} ms',
    'results.error': 'Search failed: {msg}',
    'results.open': 'Open document',
    'answer.title': 'Answer',
    'answer.welcome': 'Ask a question about your company’s documents. Answers cite their sources — select a number like [1] to read the passage.',
    'answer.examples': 'For example:',
    'answer.thinking': 'Searching the documents…',
    'answer.writing': 'Writing the answer…',
    'answer.stopped': 'Stopped.',
    'answer.done': 'Answer complete.',
    'answer.error': 'The answer could not be produced: {msg}',
    'answer.extractive': 'Extractive answer (no language model configured)',
    'answer.sources': 'Sources',
    'answer.cite': 'Open source {n}: {title}',
    'answer.empty': 'No answer text was returned.',
    'answer.you': 'You',
    'answer.assistant': 'Savoir',
    'answer.timings': '{ms} ms',
    'doc.close': 'Close',
    'admin.open': 'Sources',
    'admin.title': 'Sources',
    'admin.intro': 'Connector sources sync on their own schedule; “Sync now” runs one next.',
    'admin.sync': 'Sync now',
    'admin.syncNamed': 'Sync {name} now',
    'admin.syncing': 'Syncing…',
    'admin.queued': 'Queued',
    'admin.queuedNamed': '{name} will sync next',
    'admin.documents': 'Documents',
    'admin.lastSuccess': 'Last success',
    'admin.nextRun': 'Next run',
    'admin.seen': 'Seen by last run',
    'admin.never': 'never',
    'admin.due': 'due now',
    'admin.manual': 'manual only',
    'admin.byIndex': 'with savoir index',
    'admin.errors': '{n} errors of the last run',
    'admin.moreErrors': '{n} more errors',
    'admin.none': 'No sources yet.',
    'admin.add': 'Add a source',
    'admin.addTitle': 'Add a source',
    'admin.addSubmit': 'Add source',
    'admin.addedNamed': 'Source {name} added; it syncs shortly',
    'admin.cancel': 'Cancel',
    'admin.save': 'Save',
    'admin.edit': 'Edit',
    'admin.editNamed': 'Edit {name}',
    'admin.savedNamed': '{name} saved',
    'admin.remove': 'Remove',
    'admin.removeNamed': 'Remove {name}',
    'admin.removeConfirm': 'Remove for good',
    'admin.confirmRemove': 'Remove {name} and its {n} documents from Savoir? The source itself is not touched; adding it again re-reads everything.',
    'admin.removedNamed': 'Source {name} removed',
    'admin.interval': 'Sync every (minutes)',
    'admin.intervalDefault': 'server default',
    'admin.intervalHint': '0: manual only; empty: the server default',
    'admin.credentialReplace': 'Replace the credential',
    'admin.credentialKeep': 'leave empty to keep it',
    'admin.credentialSet': 'Credential set: yes (stored encrypted, never shown)',
    'admin.credentialNotSet': 'Credential set: no',
    'admin.kind.slack': 'Slack (Web API)',
    'admin.kind.confluence': 'Confluence (REST API)',
    'admin.kind.web': 'Web site or blog',
    'admin.kind.slack-export': 'Slack export',
    'admin.kind.confluence-export': 'Confluence space export',
    'admin.field.kind': 'Kind',
    'admin.field.name': 'Name',
    'admin.field.api_url': 'Web API URL',
    'admin.field.requests_per_minute': 'Requests per minute',
    'admin.field.rescan_days': 'Full re-scan every (days)',
    'admin.field.base_url': 'Site URL',
    'admin.field.user': 'Account e-mail (Cloud)',
    'admin.field.spaces': 'Spaces (default: all)',
    'admin.field.url': 'Site URL',
    'admin.field.sitemaps': 'Sitemaps',
    'admin.field.feeds': 'RSS or Atom feeds',
    'admin.field.max_pages': 'Pages per sync',
    'admin.field.acl': 'Readers',
    'admin.field.path': 'Folder or .zip on the server',
    'admin.field.workspace': 'Workspace domain',
    'admin.field.space': 'Space key',
    'admin.field.credential': 'Token',
    'admin.hint.name': 'Letters, digits, - _ . (names the access group)',
    'admin.hint.list': 'Separated by commas or spaces',
    'admin.hint.lines': 'One URL per line',
    'admin.hint.credential.slack': 'Bot token (xoxb-…), stored encrypted',
    'admin.hint.credential.confluence': 'API token (Cloud, with the e-mail) or personal access token (Data Center), stored encrypted',
    'admin.hint.credential.web': 'Only for a site behind a login: a token, user:password (basic) or a whole header line such as Cookie: session=… (header). Sent only to the site’s own addresses (its URL, sitemaps and feeds), stored encrypted',
    'admin.field.auth': 'Token sent as',
    'admin.option.auth.default': 'bearer token (default)',
    'admin.option.auth.basic': 'basic (user:password)',
    'admin.option.auth.header': 'header line (Name: value)',
    'doc.loading': 'Loading document…',
    'doc.error': 'Could not load the document: {msg}',
    'doc.openOriginal': 'Open original',
    'doc.passage': 'Cited passage',
    'doc.updated': 'Updated {date}',
    'theme.toDark': 'Switch to dark mode',
    'theme.toLight': 'Switch to light mode',
    'theme.label': 'Dark mode',
    'lang.switch': 'Interface language',
    'kind.files': 'File',
    'kind.slack': 'Slack',
    'kind.confluence': 'Confluence',
    'kind.web': 'Web page',
    'error.network': 'network error',
    'error.closed': 'the connection closed before the answer finished',
  },
  fr: {
    'app.tagline': 'Des réponses tirées des documents de votre entreprise',
    'skip': 'Aller à la réponse',
    'banner.single': 'Mode mono-utilisateur — sans connexion ; toute personne utilisant ce serveur voit les mêmes documents',
    'search.label': 'Poser une question ou rechercher',
    'search.placeholder': 'Posez une question ou cherchez dans les documents…',
    'search.submit': 'Demander',
    'search.stop': 'Arrêter',
    'filters': 'Filtres',
    'filters.active': 'Filtres ({n})',
    'filters.sources': 'Sources',
    'filters.allSources': 'Toutes les sources',
    'filters.updatedAfter': 'Mis à jour après le',
    'filters.language': 'Langue',
    'filters.anyLanguage': 'Toutes les langues',
    'filters.clear': 'Effacer les filtres',
    'lang.fr': 'Français',
    'lang.en': 'Anglais',
    'chat.new': 'Nouvelle discussion',
    'chat.history': 'Discussions',
    'chat.historyTitle': 'Vos discussions',
    'chat.noHistory': 'Aucune discussion enregistrée.',
    'chat.delete': 'Supprimer la discussion « {title} »',
    'chat.open': 'Ouvrir la discussion',
    'chat.current': 'en cours',
    'chat.turns': '{n} questions',
    'chat.turn1': '1 question',
    'results.title': 'Résultats',
    'results.empty': 'Aucun document ne correspond.',
    'results.intro': 'Les résultats de recherche s’affichent ici.',
    'results.count': '{n} résultats · {ms} ms',
    'results.count1': '1 résultat · {ms} ms',
    'results.error': 'Échec de la recherche : {msg}',
    'results.open': 'Ouvrir le document',
    'answer.title': 'Réponse',
    'answer.welcome': 'Posez une question sur les documents de votre entreprise. Les réponses citent leurs sources — choisissez un numéro comme [1] pour lire le passage.',
    'answer.examples': 'Par exemple :',
    'answer.thinking': 'Recherche dans les documents…',
    'answer.writing': 'Rédaction de la réponse…',
    'answer.stopped': 'Arrêté.',
    'answer.done': 'Réponse terminée.',
    'answer.error': 'La réponse n’a pas pu être produite : {msg}',
    'answer.extractive': 'Réponse extractive (aucun modèle de langage configuré)',
    'answer.sources': 'Sources',
    'answer.cite': 'Ouvrir la source {n} : {title}',
    'answer.empty': 'Aucun texte de réponse reçu.',
    'answer.you': 'Vous',
    'answer.assistant': 'Savoir',
    'answer.timings': '{ms} ms',
    'doc.close': 'Fermer',
    'admin.open': 'Sources',
    'admin.title': 'Sources',
    'admin.intro': 'Les sources connectées se synchronisent selon leur propre calendrier ; « Synchroniser » en lance une en priorité.',
    'admin.sync': 'Synchroniser',
    'admin.syncNamed': 'Synchroniser {name} maintenant',
    'admin.syncing': 'Synchronisation…',
    'admin.queued': 'En file d’attente',
    'admin.queuedNamed': '{name} sera synchronisée ensuite',
    'admin.documents': 'Documents',
    'admin.lastSuccess': 'Dernier succès',
    'admin.nextRun': 'Prochaine exécution',
    'admin.seen': 'Vus au dernier passage',
    'admin.never': 'jamais',
    'admin.due': 'imminente',
    'admin.manual': 'manuelle uniquement',
    'admin.byIndex': 'avec savoir index',
    'admin.errors': '{n} erreurs au dernier passage',
    'admin.moreErrors': '{n} erreurs de plus',
    'admin.none': 'Aucune source pour l’instant.',
    'admin.add': 'Ajouter une source',
    'admin.addTitle': 'Ajouter une source',
    'admin.addSubmit': 'Ajouter',
    'admin.addedNamed': 'Source {name} ajoutée ; elle se synchronise bientôt',
    'admin.cancel': 'Annuler',
    'admin.save': 'Enregistrer',
    'admin.edit': 'Modifier',
    'admin.editNamed': 'Modifier {name}',
    'admin.savedNamed': '{name} enregistrée',
    'admin.remove': 'Supprimer',
    'admin.removeNamed': 'Supprimer {name}',
    'admin.removeConfirm': 'Supprimer définitivement',
    'admin.confirmRemove': 'Retirer {name} et ses {n} documents de Savoir ? La source elle-même n’est pas touchée ; l’ajouter de nouveau relit tout.',
    'admin.removedNamed': 'Source {name} supprimée',
    'admin.interval': 'Synchroniser toutes les (minutes)',
    'admin.intervalDefault': 'défaut du serveur',
    'admin.intervalHint': '0 : manuelle uniquement ; vide : le défaut du serveur',
    'admin.credentialReplace': 'Remplacer le jeton',
    'admin.credentialKeep': 'laisser vide pour le garder',
    'admin.credentialSet': 'Jeton enregistré : oui (chiffré, jamais affiché)',
    'admin.credentialNotSet': 'Jeton enregistré : non',
    'admin.kind.slack': 'Slack (API Web)',
    'admin.kind.confluence': 'Confluence (API REST)',
    'admin.kind.web': 'Site web ou blog',
    'admin.kind.slack-export': 'Export Slack',
    'admin.kind.confluence-export': 'Export d’espace Confluence',
    'admin.field.kind': 'Type',
    'admin.field.name': 'Nom',
    'admin.field.api_url': 'URL de l’API Web',
    'admin.field.requests_per_minute': 'Requêtes par minute',
    'admin.field.rescan_days': 'Relecture complète tous les (jours)',
    'admin.field.base_url': 'URL du site',
    'admin.field.user': 'E-mail du compte (Cloud)',
    'admin.field.spaces': 'Espaces (défaut : tous)',
    'admin.field.url': 'URL du site',
    'admin.field.sitemaps': 'Sitemaps',
    'admin.field.feeds': 'Flux RSS ou Atom',
    'admin.field.max_pages': 'Pages par synchronisation',
    'admin.field.acl': 'Lecteurs',
    'admin.field.path': 'Dossier ou .zip sur le serveur',
    'admin.field.workspace': 'Domaine de l’espace de travail',
    'admin.field.space': 'Clé de l’espace',
    'admin.field.credential': 'Jeton',
    'admin.hint.name': 'Lettres, chiffres, - _ . (nomme le groupe d’accès)',
    'admin.hint.list': 'Séparés par des virgules ou des espaces',
    'admin.hint.lines': 'Une URL par ligne',
    'admin.hint.credential.slack': 'Jeton de bot (xoxb-…), enregistré chiffré',
    'admin.hint.credential.confluence': 'Jeton d’API (Cloud, avec l’e-mail) ou jeton d’accès personnel (Data Center), enregistré chiffré',
    'admin.hint.credential.web': 'Seulement pour un site derrière une connexion : un jeton, utilisateur:mot de passe (basic) ou une ligne d’en-tête entière comme Cookie: session=… (header). Envoyé seulement aux adresses du site (son URL, ses sitemaps et flux), enregistré chiffré',
    'admin.field.auth': 'Jeton envoyé comme',
    'admin.option.auth.default': 'jeton bearer (défaut)',
    'admin.option.auth.basic': 'basic (utilisateur:mot de passe)',
    'admin.option.auth.header': 'ligne d’en-tête (Nom: valeur)',
    'doc.loading': 'Chargement du document…',
    'doc.error': 'Impossible de charger le document : {msg}',
    'doc.openOriginal': 'Ouvrir l’original',
    'doc.passage': 'Passage cité',
    'doc.updated': 'Mis à jour le {date}',
    'theme.toDark': 'Passer en mode sombre',
    'theme.toLight': 'Passer en mode clair',
    'theme.label': 'Mode sombre',
    'lang.switch': 'Langue de l’interface',
    'kind.files': 'Fichier',
    'kind.slack': 'Slack',
    'kind.confluence': 'Confluence',
    'kind.web': 'Page web',
    'error.network': 'erreur réseau',
    'error.closed': 'la connexion s’est fermée avant la fin de la réponse',
  },
};

export const LANGS = ['en', 'fr'];
const KEY = 'savoir.lang';
let current = 'en';

export function detectLang() {
  try {
    const saved = localStorage.getItem(KEY);
    if (LANGS.includes(saved)) return saved;
  } catch { /* storage disabled */ }
  const prefs = navigator.languages?.length ? navigator.languages : [navigator.language || 'en'];
  for (const l of prefs) {
    const base = String(l).toLowerCase().slice(0, 2);
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export function setLang(lang, remember = false) {
  current = LANGS.includes(lang) ? lang : 'en';
  document.documentElement.lang = current;
  if (remember) {
    try { localStorage.setItem(KEY, current); } catch { /* ignore */ }
  }
  applyI18n(document);
}

export const lang = () => current;

export function t(key, vars) {
  let s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
  return s;
}

/**
 * Fills elements marked with data-i18n="key" (text) and
 * data-i18n-attr="attr:key;attr2:key2" (attributes).
 */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

export function formatDate(iso, opts = { dateStyle: 'medium' }) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(current === 'fr' ? 'fr-FR' : 'en-GB', opts).format(d);
  } catch {
    return d.toISOString().slice(0, 10);
  }
}

export function formatNumber(n, digits = 0) {
  return new Intl.NumberFormat(current === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: digits }).format(n);
}
