/**
 * Checks of what the register says, beyond its shape: groups of controllers, "anonymisations"
 * that leave a person identifiable, and a notice's "you must provide this data" that the legal
 * basis does not carry. Called from validateRegister.
 */
import type { Reporter } from '../issues.js';
import { anonymiseResidue, isPseudonymisation } from './pseudonymisation.js';
import type { Register } from './register-load.js';

/** The bases a stated requirement to provide the data rests on (art. 13(2)(e) against art. 6(1)). */
const REQUIREMENT_BASES: Record<string, readonly string[]> = {
  statutory: ['legal-obligation'],
  contractual: ['contract'],
  'pre-contractual': ['contract'],
};

export function checkRegisterSubstance(register: Register, error: Reporter, warn: Reporter): void {
  checkControllerGroups(register, error);
  checkPseudonymisation(register, warn);
  checkProvisionBasis(register, warn);
}

function checkControllerGroups(register: Register, error: Reporter): void {
  const byId = new Map(register.controllers.map((c) => [c.id, c]));
  for (const controller of register.controllers) {
    if (controller.memberOf === undefined) continue;
    const group = byId.get(controller.memberOf);
    if (!group)
      error(
        'E_UNKNOWN_REFERENCE',
        controller,
        ['memberOf'],
        `controller "${controller.id}" is a member of "${controller.memberOf}", which is not declared (declared: ${[...byId.keys()].join(', ')})`,
      );
    else {
      const members = register.controllers.filter((m) => m.memberOf === controller.id && m !== controller);
      if (group === controller || members.length)
        error(
          'E_CONTROLLER_GROUP_NESTED',
          controller,
          ['memberOf'],
          group === controller
            ? `controller "${controller.id}" is a member of itself`
            : `controller "${controller.id}" is a member of "${group.id}" and has members itself (${members.map((m) => m.id).join(', ')}): a group holds controllers, not groups; make them members of "${group.id}" directly`,
        );
    }
  }
}

function checkPseudonymisation(register: Register, warn: Reporter): void {
  for (const rule of register.retention) {
    const residue = anonymiseResidue(register, rule);
    if (!residue || !isPseudonymisation(residue)) continue;
    const left = [
      ...(residue.keptFields.length ? [`keeps ${residue.keptFields.join(', ')}`] : []),
      ...(residue.links.length
        ? [
            `stays linked to ${residue.links.map((l) => `"${l.record.id}" (relation "${l.relation}")`).join(', ')}, which still hold a person's data`,
          ]
        : []),
    ];
    warn(
      'W_ANONYMISE_IS_PSEUDONYMISATION',
      rule,
      ['then', 'anonymise'],
      `rule "${rule.id}" "anonymises" record "${rule.record}", but the row ${left.join(' and ')}: that is pseudonymisation, the data stays personal (CNIL; WP216); the documents say so`,
    );
  }
}

function checkProvisionBasis(register: Register, warn: Reporter): void {
  for (const activity of register.activities) {
    const requirement = activity.provision?.requirement;
    const bases = requirement ? REQUIREMENT_BASES[requirement] : undefined;
    if (!requirement || !bases) continue;
    const purposes = activity.purposes;
    if (purposes.some((p) => bases.includes(p.legalBasis))) continue;
    warn(
      'W_PROVISION_CONTRADICTS_BASIS',
      activity,
      ['provision', 'requirement'],
      `activity "${activity.id}" tells people that providing the data is ${requirement} (art. 13(2)(e)), but none of its purposes rests on ${bases.join(' or ')} (${purposes.map((p) => `"${p.id}": ${p.legalBasis}`).join(', ')}): change the legal basis or the statement`,
    );
  }
}
