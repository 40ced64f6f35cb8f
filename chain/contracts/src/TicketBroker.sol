// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Owned} from "./Owned.sol";
import {Managed} from "./Managed.sol";
import {GasBallast} from "./GasBallast.sol";
import {IRoundsManager, IBondingManager} from "./Interfaces.sol";

/// @notice Probabilistic micropayment settlement: senders lock a deposit and
/// a reserve, recipients redeem winning tickets against them. The ABI,
/// events, revert reasons and the order of the checks follow the protocol's
/// TicketBroker on Arbitrum, so the redeemer meets here what it meets there.
contract TicketBroker is Owned, Managed, GasBallast {
    struct Ticket {
        address recipient;
        address sender;
        uint256 faceValue;
        uint256 winProb;
        uint256 senderNonce;
        bytes32 recipientRandHash;
        bytes auxData;
    }

    struct Sender {
        uint256 deposit;
        uint256 withdrawRound;
    }

    struct ReserveInfo {
        uint256 fundsRemaining;
        uint256 claimedInCurrentRound;
    }

    struct Reserve {
        uint256 funds;
        // Claims are kept per round so that a new round starts from zero
        // without touching storage.
        mapping(uint256 => uint256) claimedForRound;
        mapping(uint256 => mapping(address => uint256)) claimedByAddress;
    }

    // Gas the protocol's redemption spends beyond this contract's (proxies,
    // the Controller lookups, fee accounting), burned by every redeemed
    // ticket. With FIRST_TICKET_IN_TX_GAS and BondingManager's
    // FIRST_FEES_OF_ROUND_GAS it makes receipts match Arbitrum's.
    uint256 public constant TICKET_GAS = 107_750;
    // Extra for the first ticket a transaction redeems: the cold account
    // and storage accesses that later tickets of a batch find warm.
    uint256 public constant FIRST_TICKET_IN_TX_GAS = 40_850;
    // Extra when a ticket draws on the reserve: the protocol re-reads the
    // active set and pool size through its proxies and writes the claims.
    uint256 public constant RESERVE_CLAIM_GAS = 183_650;

    // Upper bound for s in a signature: larger values are the malleable twin
    // of a valid signature and would give one ticket two distinct encodings.
    uint256 private constant SECP256K1_HALF_N =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    uint256 public ticketValidityPeriod = 2;
    uint256 public unlockPeriod = 2;

    mapping(bytes32 => bool) public usedTickets;

    mapping(address => Sender) private senders;
    mapping(address => Reserve) private reserves;

    // Set by the first ticket a transaction redeems; a reverted ticket
    // unsets it again, as a revert also makes its accounts cold again.
    bool private transient redeemedInThisTx;

    event DepositFunded(address indexed sender, uint256 amount);
    event ReserveFunded(address indexed reserveHolder, uint256 amount);
    event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount);
    event Unlock(address indexed sender, uint256 startRound, uint256 endRound);
    event UnlockCancelled(address indexed sender);
    event WinningTicketRedeemed(
        address indexed sender,
        address indexed recipient,
        uint256 faceValue,
        uint256 winProb,
        uint256 senderNonce,
        uint256 recipientRand,
        bytes auxData
    );
    event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount);
    event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve);

    modifier currentRoundInitialized() {
        require(roundsManager().currentRoundInitialized(), "current round is not initialized");
        _;
    }

    constructor(address controllerAddress) Managed(controllerAddress) {}

    // ---- owner hooks ----

    function setTicketValidityPeriod(uint256 period) external onlyOwner {
        require(period > 0, "ticketValidityPeriod must be greater than 0");
        ticketValidityPeriod = period;
    }

    function setUnlockPeriod(uint256 period) external onlyOwner {
        unlockPeriod = period;
    }

    // ---- funding ----
    //
    // Funding by the sender itself cancels its unlock. Events come in the
    // protocol's order: UnlockCancelled, ReserveFunded, DepositFunded.

    function fundDeposit() external payable whenSystemNotPaused {
        _addDeposit(msg.sender, msg.value);
        emit DepositFunded(msg.sender, msg.value);
    }

    function fundReserve() external payable whenSystemNotPaused {
        _addReserve(msg.sender, msg.value);
        _cancelUnlockIfOwnFunding(msg.sender);
    }

    function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount) external payable {
        fundDepositAndReserveFor(msg.sender, depositAmount, reserveAmount);
    }

    function fundDepositAndReserveFor(address sender, uint256 depositAmount, uint256 reserveAmount)
        public
        payable
        whenSystemNotPaused
    {
        require(
            msg.value == depositAmount + reserveAmount,
            "msg.value does not equal sum of deposit amount and reserve amount"
        );
        _addDeposit(sender, depositAmount);
        _addReserve(sender, reserveAmount);
        emit DepositFunded(sender, depositAmount);
    }

    // ---- unlock and withdrawal ----

    function unlock() external whenSystemNotPaused {
        Sender storage s = senders[msg.sender];
        require(s.deposit > 0 || reserves[msg.sender].funds > 0, "sender deposit and reserve are zero");
        require(s.withdrawRound == 0, "unlock already initiated");
        uint256 round = roundsManager().currentRound();
        s.withdrawRound = round + unlockPeriod;
        emit Unlock(msg.sender, round, s.withdrawRound);
    }

    function cancelUnlock() external whenSystemNotPaused {
        _cancelUnlock(msg.sender);
    }

    function withdraw() external whenSystemNotPaused {
        Sender storage s = senders[msg.sender];
        uint256 deposit = s.deposit;
        uint256 reserve = reserves[msg.sender].funds;
        require(deposit > 0 || reserve > 0, "sender deposit and reserve are zero");
        require(s.withdrawRound != 0, "no unlock request in progress");
        require(!_isLocked(s), "account is locked");

        s.deposit = 0;
        // Claims made in this round stay behind; they cannot be drawn on
        // again because an unlocked sender's tickets are refused.
        reserves[msg.sender].funds = 0;

        (bool ok,) = payable(msg.sender).call{value: deposit + reserve}("");
        require(ok, "withdrawal transfer failed");
        emit Withdrawal(msg.sender, deposit, reserve);
    }

    function isUnlockInProgress(address sender) public view returns (bool) {
        return senders[sender].withdrawRound != 0;
    }

    // ---- views ----

    function getSenderInfo(address sender) external view returns (Sender memory info, ReserveInfo memory reserve) {
        info = senders[sender];
        reserve = getReserveInfo(sender);
    }

    function getReserveInfo(address reserveHolder) public view returns (ReserveInfo memory info) {
        Reserve storage r = reserves[reserveHolder];
        info.fundsRemaining = r.funds;
        info.claimedInCurrentRound = r.claimedForRound[roundsManager().currentRound()];
    }

    function claimedReserve(address reserveHolder, address claimant) external view returns (uint256) {
        return reserves[reserveHolder].claimedByAddress[roundsManager().currentRound()][claimant];
    }

    /// @notice The claimant's share of the holder's reserve this round, less
    /// what it already claimed. Reverts with an arithmetic underflow when
    /// the pool grew after the claimant claimed more than its new share, as
    /// the protocol's contract does; off-chain readers should compute the
    /// allocation themselves and clamp it at zero.
    function claimableReserve(address reserveHolder, address claimant) public view returns (uint256) {
        Reserve storage r = reserves[reserveHolder];
        uint256 round = roundsManager().currentRound();
        IBondingManager bonding = bondingManager();
        if (!bonding.isActiveTranscoder(claimant)) {
            return 0;
        }
        uint256 poolSize = bonding.getTranscoderPoolSize();
        if (poolSize == 0) {
            return 0;
        }
        return (r.funds + r.claimedForRound[round]) / poolSize - r.claimedByAddress[round][claimant];
    }

    function getTicketHash(Ticket memory ticket) public pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                ticket.recipient,
                ticket.sender,
                ticket.faceValue,
                ticket.winProb,
                ticket.senderNonce,
                ticket.recipientRandHash,
                ticket.auxData
            )
        );
    }

    // ---- redemption ----

    /// @notice Pays a winning ticket to its recipient's fee pool in
    /// BondingManager: from the sender's deposit first, then from the
    /// recipient's allocation of the reserve. Anyone may submit it.
    function redeemWinningTicket(Ticket calldata ticket, bytes calldata sig, uint256 recipientRand)
        external
        whenSystemNotPaused
        currentRoundInitialized
    {
        bytes32 ticketHash = getTicketHash(ticket);
        uint256 creationRound = _requireValidWinningTicket(ticket, ticketHash, sig, recipientRand);

        Sender storage s = senders[ticket.sender];
        require(_isLocked(s), "sender is unlocked");
        require(s.deposit > 0 || reserves[ticket.sender].funds > 0, "sender deposit and reserve are zero");

        usedTickets[ticketHash] = true;

        uint256 amount;
        if (ticket.faceValue > s.deposit) {
            amount = s.deposit + _claimFromReserve(ticket.sender, ticket.recipient, ticket.faceValue - s.deposit);
            s.deposit = 0;
        } else {
            amount = ticket.faceValue;
            s.deposit -= ticket.faceValue;
        }

        if (amount > 0) {
            bondingManager().updateTranscoderWithFees(ticket.recipient, amount, creationRound);
            emit WinningTicketTransfer(ticket.sender, ticket.recipient, amount);
        }
        emit WinningTicketRedeemed(
            ticket.sender,
            ticket.recipient,
            ticket.faceValue,
            ticket.winProb,
            ticket.senderNonce,
            recipientRand,
            ticket.auxData
        );

        if (!redeemedInThisTx) {
            redeemedInThisTx = true;
            burnGas(FIRST_TICKET_IN_TX_GAS);
        }
        burnGas(TICKET_GAS);
    }

    /// @notice Redeems each ticket in its own call: one that fails for any
    /// reason, running out of gas included, is skipped without a trace but
    /// the missing WinningTicketRedeemed log. There is deliberately no guard
    /// against a gas limit too low for every ticket; the protocol has none,
    /// so a redeemer must give the batch enough gas itself.
    function batchRedeemWinningTickets(Ticket[] calldata tickets, bytes[] calldata sigs, uint256[] calldata recipientRands)
        external
        whenSystemNotPaused
        currentRoundInitialized
    {
        for (uint256 i = 0; i < tickets.length; i++) {
            _redeemNoRevert(tickets[i], sigs[i], recipientRands[i]);
        }
    }

    /// @dev The external self-call gives the ticket its own revert scope.
    function _redeemNoRevert(Ticket calldata ticket, bytes calldata sig, uint256 recipientRand)
        private
        returns (bool redeemed)
    {
        (redeemed,) = address(this).call(abi.encodeCall(this.redeemWinningTicket, (ticket, sig, recipientRand)));
    }

    // ---- internals ----

    /// @return creationRound The round the ticket was created in.
    function _requireValidWinningTicket(
        Ticket calldata ticket,
        bytes32 ticketHash,
        bytes calldata sig,
        uint256 recipientRand
    ) private view returns (uint256 creationRound) {
        require(ticket.recipient != address(0), "ticket recipient is null address");
        require(ticket.sender != address(0), "ticket sender is null address");
        creationRound = _requireValidAuxData(ticket.auxData);
        require(
            keccak256(abi.encodePacked(recipientRand)) == ticket.recipientRandHash,
            "recipientRand does not match recipientRandHash"
        );
        require(!usedTickets[ticketHash], "ticket is used");
        require(_isValidSignature(ticket.sender, sig, ticketHash), "invalid signature over ticket hash");
        require(uint256(keccak256(abi.encodePacked(sig, recipientRand))) < ticket.winProb, "ticket did not win");
    }

    function _requireValidAuxData(bytes calldata auxData) private view returns (uint256 creationRound) {
        require(auxData.length == 64, "invalid length for ticket auxData: must be 64 bytes");
        bytes32 creationRoundBlockHash;
        (creationRound, creationRoundBlockHash) = abi.decode(auxData, (uint256, bytes32));
        IRoundsManager rm = roundsManager();
        bytes32 expected = rm.blockHashForRound(creationRound);
        require(expected != bytes32(0), "ticket creationRound does not have a block hash");
        require(creationRoundBlockHash == expected, "ticket creationRoundBlockHash invalid for creationRound");
        require(creationRound + ticketValidityPeriod > rm.currentRound(), "ticket is expired");
    }

    function _isValidSignature(address signer, bytes calldata sig, bytes32 ticketHash) private pure returns (bool) {
        require(sig.length == 65, "INVALID_SIGNATURE_LENGTH");
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        require(uint256(s) <= SECP256K1_HALF_N, "ECDSA: invalid signature 's' value");
        require(v == 27 || v == 28, "ECDSA: invalid signature 'v' value");
        bytes32 digest = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", ticketHash));
        address recovered = ecrecover(digest, v, r, s);
        require(recovered != address(0), "ECDSA: invalid signature");
        return recovered == signer;
    }

    /// @dev Locked: no unlock requested, or its withdraw round not reached.
    function _isLocked(Sender storage s) private view returns (bool) {
        return s.withdrawRound == 0 || roundsManager().currentRound() < s.withdrawRound;
    }

    function _claimFromReserve(address holder, address claimant, uint256 amount) private returns (uint256) {
        // Reverts, and with it the redemption, where claimableReserve does.
        uint256 claimable = claimableReserve(holder, claimant);
        uint256 claim = amount > claimable ? claimable : amount;
        if (claim == 0) {
            return 0;
        }
        uint256 round = roundsManager().currentRound();
        Reserve storage r = reserves[holder];
        r.claimedForRound[round] += claim;
        r.claimedByAddress[round][claimant] += claim;
        // Checked: an allocation computed over a pool that shrank mid-round
        // can exceed the funds left, and then the redemption reverts.
        r.funds -= claim;
        emit ReserveClaimed(holder, claimant, claim);
        burnGas(RESERVE_CLAIM_GAS);
        return claim;
    }

    function _addDeposit(address sender, uint256 amount) private {
        senders[sender].deposit += amount;
        _cancelUnlockIfOwnFunding(sender);
    }

    function _addReserve(address holder, uint256 amount) private {
        reserves[holder].funds += amount;
        emit ReserveFunded(holder, amount);
    }

    function _cancelUnlockIfOwnFunding(address sender) private {
        if (msg.sender == sender && senders[sender].withdrawRound != 0) {
            _cancelUnlock(sender);
        }
    }

    function _cancelUnlock(address sender) private {
        Sender storage s = senders[sender];
        require(s.withdrawRound != 0, "no unlock request in progress");
        s.withdrawRound = 0;
        emit UnlockCancelled(sender);
    }
}
