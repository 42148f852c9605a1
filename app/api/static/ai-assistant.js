/*
 * ai-assistant.js: the Course Creator AI Assistant widget. No dependencies.
 *
 * The design note's AIAssistant class (thinking indicator, messages, action success), plus what
 * the service sends beside it: streamed text, citations, action previews with Approve / Reject,
 * and reconnection with backoff that resumes from the last frame seen (no frame lost or shown twice).
 *
 *   const assistant = new AIAssistant({ token, container: document.getElementById('assistant') });
 *   assistant.sendMessage('Create an intermediate Python track in Data Science Foundations');
 *
 * config: token (the platform's access token), container (an element), url (default: this
 * origin's /ws/ai-assistant), conversationId (resume one), projectId (sent as page context).
 */
class AIAssistant {
  constructor(config) {
    this.config = config || {};
    this.token = this.config.token || '';
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = this.config.url || `${scheme}//${window.location.host}/ws/ai-assistant`;
    this.currentProjectId = this.config.projectId || null;
    this.conversationId = this.config.conversationId || sessionStorage.getItem('cca.conversation') || null;
    this.lastSeq = 0;             // a new page replays its conversation; a reconnect resumes from here
    this.delay = 1000;            // reconnect backoff: 1 s, doubling, at most 5 s, with 50% jitter
    this.closedByUs = false;
    this.bubbles = {};            // turn id -> the assistant bubble being streamed
    this.citations = {};          // turn id -> cited chunks
    this.render();
    this.connect();
  }

  // --- connection ---------------------------------------------------------------------------
  connect() {
    this.setStatus('connecting');
    const ws = new WebSocket(`${this.url}?token=${encodeURIComponent(this.token)}`);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 1000;
      ws.send(JSON.stringify({
        type: 'init', auth_token: this.token, conversation_id: this.conversationId, last_seq: this.lastSeq,
        user_context: { current_page: window.location.pathname, selected_project: this.currentProjectId },
      }));
    };
    ws.onmessage = (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      this.handle(data);
    };
    ws.onclose = (event) => {
      this.setStatus('offline');
      if (event.code === 4401) { this.addNotice(`Not signed in: ${event.reason || 'the token was refused'}.`, 'error'); return; }
      if (this.closedByUs) return;
      const wait = this.delay * (0.5 + Math.random() * 0.5);
      this.delay = Math.min(this.delay * 2, 5000);
      setTimeout(() => this.connect(), wait);
    };
  }

  close() { this.closedByUs = true; if (this.ws) this.ws.close(); }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) { this.addNotice('Not connected yet; try again in a moment.', 'error'); return false; }
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // --- what the service sends -----------------------------------------------------------------
  handle(data) {
    if (typeof data.seq === 'number' && data.turn_id) {
      if (data.seq < this.lastSeq) return;     // already shown before a reconnect
      this.lastSeq = data.seq;
    }
    switch (data.type) {
      case 'connected':
        if (data.conversation_id !== this.conversationId) { this.lastSeq = data.seq || 0; }
        this.conversationId = data.conversation_id;
        sessionStorage.setItem('cca.conversation', this.conversationId);
        this.setStatus('online', data.mode);
        break;
      case 'turn_started':
        if (data.kind === 'message') { this.addMessage(data.label, true, data.turn_id + ':user'); }
        else { this.addNotice(data.label, 'decision', data.turn_id + ':decision'); }
        break;
      case 'thinking': this.showThinkingIndicator(); break;
      case 'context': this.citations[data.turn_id] = data.citations || []; break;
      case 'response_delta': this.appendText(data.turn_id, data.content); break;
      case 'tool_used': this.addStep(data.turn_id, `${data.ok ? '✓' : '✗'} ${data.tool}`); break;
      case 'action_proposed': this.showPreview(data); break;
      case 'action_executed': this.showActionSuccess(data.action, data.result, data); break;
      case 'response': this.finishText(data.turn_id, data.content); break;
      case 'error': if (data.code !== 'cancelled') this.addNotice(data.content || 'Something went wrong.', 'error'); break;
      case 'done': this.hideThinkingIndicator(); this.showCitations(data.turn_id); break;
      case 'history_cleared': this.messages.innerHTML = ''; this.lastSeq = 0; break;
      default: break;
    }
  }

  // --- what the user does ---------------------------------------------------------------------
  sendMessage(message) {
    const text = (message || '').trim();
    if (!text) return;
    this.send({ type: 'user_message', content: text, context: this.getContext() });
  }

  approve(action, confirmText) {
    this.send({ type: 'approve_action', action_id: action.action_id, digest: action.digest, confirm_text: confirmText || null });
  }

  reject(action, reason) { this.send({ type: 'reject_action', action_id: action.action_id, reason: reason || '' }); }

  stop() { this.send({ type: 'cancel' }); }

  clearHistory() { this.send({ type: 'clear_history' }); }

  getContext() {
    return { current_page: window.location.pathname, selected_project: this.currentProjectId };
  }

  // --- drawing ------------------------------------------------------------------------------
  render() {
    const root = this.config.container || document.body;
    root.classList.add('cca-assistant');
    root.innerHTML = `
      <div class="cca-head"><strong>AI Assistant</strong> <span class="cca-status">connecting</span></div>
      <div class="cca-messages" role="log" aria-live="polite"></div>
      <div class="cca-thinking" hidden>Thinking<span>.</span><span>.</span><span>.</span></div>
      <form class="cca-form"><input class="cca-input" placeholder="Ask about the platform, or ask for a change" aria-label="Message">
        <button type="submit">Send</button><button type="button" class="cca-stop" title="Stop the answer">Stop</button></form>`;
    this.root = root;
    this.messages = root.querySelector('.cca-messages');
    this.thinking = root.querySelector('.cca-thinking');
    this.status = root.querySelector('.cca-status');
    const input = root.querySelector('.cca-input');
    root.querySelector('.cca-form').addEventListener('submit', (e) => { e.preventDefault(); this.sendMessage(input.value); input.value = ''; });
    root.querySelector('.cca-stop').addEventListener('click', () => this.stop());
  }

  setStatus(state, mode) { this.status.textContent = mode ? `${state} · ${mode}` : state; this.status.dataset.state = state; }

  element(tag, cls, text) { const el = document.createElement(tag); if (cls) el.className = cls; if (text !== undefined) el.textContent = text; return el; }

  scroll() { this.messages.scrollTop = this.messages.scrollHeight; }

  addMessage(content, isUser, key) {
    if (key && this.messages.querySelector(`[data-key="${CSS.escape(key)}"]`)) return null;
    const bubble = this.element('div', isUser ? 'cca-msg cca-user' : 'cca-msg cca-bot', content);
    if (key) bubble.dataset.key = key;
    this.messages.appendChild(bubble);
    this.scroll();
    return bubble;
  }

  addNotice(content, kind, key) {
    if (key && this.messages.querySelector(`[data-key="${CSS.escape(key)}"]`)) return;
    const note = this.element('div', `cca-note cca-${kind || 'info'}`, content);
    if (key) note.dataset.key = key;
    this.messages.appendChild(note);
    this.scroll();
  }

  bubble(turnId) {
    if (!this.bubbles[turnId]) { this.bubbles[turnId] = this.addMessage('', false, turnId + ':bot'); }
    return this.bubbles[turnId];
  }

  appendText(turnId, text) { const b = this.bubble(turnId); if (b) { b.textContent += text; this.scroll(); } }

  finishText(turnId, content) { const b = this.bubble(turnId); if (b && !b.textContent) b.textContent = content; }

  addStep(turnId, text) { this.addNotice(text, 'step'); }

  showCitations(turnId) {
    const cited = (this.citations[turnId] || []).filter((c) => (this.bubbles[turnId] || {}).textContent?.includes(`[${c.cite}]`));
    if (!cited.length) return;
    const list = this.element('div', 'cca-citations');
    cited.forEach((c) => {
      const item = this.element('span', 'cca-cite', `${c.cite} · ${c.path}:${c.start_line}-${c.end_line}`);
      item.title = (c.text || '').slice(0, 600);
      list.appendChild(item);
    });
    this.messages.appendChild(list);
    this.scroll();
  }

  showThinkingIndicator() { this.thinking.hidden = false; }

  hideThinkingIndicator() { this.thinking.hidden = true; }

  showPreview(action) {
    const card = this.element('div', 'cca-action');
    card.dataset.actionId = action.action_id;
    card.appendChild(this.element('div', 'cca-action-title', `Proposed: ${action.preview}`));
    (action.changes || []).forEach((c) => {
      const before = c.before === null || c.before === undefined ? '—' : c.before;
      const after = c.after === null || c.after === undefined ? '(deleted)' : c.after;
      card.appendChild(this.element('div', 'cca-change', `${c.target} · ${c.field}: ${before} → ${after}`));
    });
    let typed = null;
    if (action.needs_typed_name) {
      typed = this.element('input', 'cca-confirm');
      typed.placeholder = `Type ${action.confirm_name} to confirm`;
      card.appendChild(typed);
    }
    const buttons = this.element('div', 'cca-buttons');
    const approve = this.element('button', 'cca-approve', 'Approve');
    const reject = this.element('button', 'cca-reject', 'Reject');
    approve.addEventListener('click', () => { this.approve(action, typed ? typed.value : null); buttons.remove(); });
    reject.addEventListener('click', () => { this.reject(action, 'rejected in the widget'); buttons.remove(); });
    buttons.append(approve, reject);
    card.appendChild(buttons);
    this.messages.appendChild(card);
    this.scroll();
  }

  showActionSuccess(action, result, data) {
    const card = this.messages.querySelector(`[data-action-id="${CSS.escape((data && data.action_id) || '')}"] .cca-buttons`);
    if (card) card.remove();
    const ok = !data || data.ok;
    this.addNotice(`${ok ? '✓' : '✗'} ${result || action}`, ok ? 'success' : 'error', data && `${data.turn_id}:outcome:${data.action_id}`);
  }
}

window.AIAssistant = AIAssistant;
